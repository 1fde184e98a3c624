#include "pier/common/path_regex.h"

#include <gtest/gtest.h>

#include <string>

namespace pier::match {
namespace {

PathRegex Re(std::string_view pattern) {
  auto regex = PathRegex::Compile(pattern);
  EXPECT_TRUE(regex.ok()) << (regex.ok() ? "" : regex.error());
  return *regex;
}

std::string Rewritten(std::string_view pattern, std::string_view path, std::string_view target) {
  std::string out;
  if (!Re(pattern).Rewrite(path, target, out)) return "<no match>";
  return out;
}

TEST(PathRegex, AnchoredAtTheStartOnlyAndCaseInsensitive) {
  const PathRegex re = Re("/api(/|$)(.*)");
  EXPECT_TRUE(re.Matches("/api"));
  EXPECT_TRUE(re.Matches("/api/"));
  EXPECT_TRUE(re.Matches("/API/v1/users"));
  EXPECT_FALSE(re.Matches("/apix"));
  EXPECT_FALSE(re.Matches("/v1/api/x"));  // not anywhere: from the first byte
  EXPECT_TRUE(Re("/foo").Matches("/foobar"));  // ingress-nginx's ~* "^/foo": the end is open
  EXPECT_FALSE(Re("/foo$").Matches("/foobar"));
}

TEST(PathRegex, RejectsWhatRe2CannotRunInLinearTimeAndBadText) {
  for (const char* bad : {"/(a", "/(a)\\1", "/(?=x)", "/a{1001}", "", "/a b", "/a\nb"}) {
    EXPECT_FALSE(PathRegex::Compile(bad).ok()) << bad;
  }
  EXPECT_FALSE(PathRegex::Compile(std::string(1025, 'a')).ok());
}

TEST(PathRegex, ALongHostilePathIsStillLinear) {
  // The classic catastrophic-backtracking pattern; RE2 answers at once.
  const PathRegex re = Re("/(a+)+$");
  EXPECT_FALSE(re.Matches("/" + std::string(100000, 'a') + "!"));
}

TEST(Rewrite, GroupsReplaceTheWholePath) {
  EXPECT_EQ(Rewritten("/api(/|$)(.*)", "/api/v1/users", "/$2"), "/v1/users");
  EXPECT_EQ(Rewritten("/api(/|$)(.*)", "/api", "/$2"), "/");
  EXPECT_EQ(Rewritten("/something(/|$)(.*)", "/something/new", "/other/$2"), "/other/new");
  EXPECT_EQ(Rewritten("/app", "/app/deep/path", "/"), "/");  // nginx's rewrite replaces the whole URI
  EXPECT_EQ(Rewritten("/a(b)?c", "/ac/x", "/[$1]"), "/[]");   // an unmatched group is empty
  EXPECT_EQ(Rewritten("/(x)", "/x", "/$0-$1-$9"), "//x-x-");  // $0: the match; a missing group is empty
  EXPECT_EQ(Rewritten("/api", "/other", "/"), "<no match>");
}

TEST(CheckRewriteTarget, APathWithGroupReferencesOnly) {
  for (const char* good : {"/", "/$1", "/api/$2/x", "/$0", "/a-b_c.d~e%20f"}) {
    EXPECT_TRUE(CheckRewriteTarget(good).ok()) << good;
  }
  for (const char* bad : {"", "$1", "relative", "/$host", "/$", "/x?y=1", "/x#f", "/a b", "/a\r\nX: y", "/\"q\"",
                          "/${1}"}) {
    EXPECT_FALSE(CheckRewriteTarget(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace pier::match
