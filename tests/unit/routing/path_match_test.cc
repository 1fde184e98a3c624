// The path-matching examples table of the Kubernetes Ingress documentation, row by row, run
// through Config::Match (one virtual host per row).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "routing/config.h"
#include "snapshot_builder.h"

namespace pier::dataplane {
namespace {

using testing::SnapshotBuilder;

struct Rule {
  bool exact;
  std::string path;
};

// Routes are given in precedence order, as the controller sends them. Returns the matched
// route's "Exact /foo" / "Prefix /foo" name, or "" when nothing matches.
std::string MatchIn(const std::vector<Rule>& rules, const std::string& request) {
  SnapshotBuilder builder;
  builder.Cluster("c").Host("example.com");
  for (const Rule& rule : rules) {
    rule.exact ? builder.Exact(rule.path) : builder.Prefix(rule.path);
    builder.LastRoute().set_name((rule.exact ? "Exact " : "Prefix ") + rule.path);
  }
  auto config = Config::Build(builder.Get());
  EXPECT_TRUE(config.ok()) << config.error();
  if (!config.ok()) return "build failed";
  auto route = (*config)->Match("example.com", request);
  return route ? route->name : "";
}

TEST(KubernetesPathExamples, PrefixRootMatchesEverything) {
  EXPECT_EQ(MatchIn({{false, "/"}}, "/"), "Prefix /");
  EXPECT_EQ(MatchIn({{false, "/"}}, "/anything/at/all"), "Prefix /");
}

TEST(KubernetesPathExamples, ExactFoo) {
  EXPECT_EQ(MatchIn({{true, "/foo"}}, "/foo"), "Exact /foo");
  EXPECT_EQ(MatchIn({{true, "/foo"}}, "/bar"), "");
  EXPECT_EQ(MatchIn({{true, "/foo"}}, "/foo/"), "");
}

TEST(KubernetesPathExamples, ExactFooSlash) {
  EXPECT_EQ(MatchIn({{true, "/foo/"}}, "/foo"), "");
  EXPECT_EQ(MatchIn({{true, "/foo/"}}, "/foo/"), "Exact /foo/");
}

TEST(KubernetesPathExamples, PrefixFooWithAndWithoutTrailingSlash) {
  for (const std::string pattern : {"/foo", "/foo/"}) {
    EXPECT_EQ(MatchIn({{false, pattern}}, "/foo"), "Prefix " + pattern);
    EXPECT_EQ(MatchIn({{false, pattern}}, "/foo/"), "Prefix " + pattern);
  }
}

TEST(KubernetesPathExamples, PrefixIsElementWise) {
  EXPECT_EQ(MatchIn({{false, "/aaa/bb"}}, "/aaa/bbb"), "");
  EXPECT_EQ(MatchIn({{false, "/aaa/bbb"}}, "/aaa/bbb"), "Prefix /aaa/bbb");
  EXPECT_EQ(MatchIn({{false, "/aaa/bbb/"}}, "/aaa/bbb"), "Prefix /aaa/bbb/");
  EXPECT_EQ(MatchIn({{false, "/aaa/bbb"}}, "/aaa/bbb/"), "Prefix /aaa/bbb");
  EXPECT_EQ(MatchIn({{false, "/aaa/bbb"}}, "/aaa/bbb/ccc"), "Prefix /aaa/bbb");
  EXPECT_EQ(MatchIn({{false, "/foo"}}, "/foo/bar"), "Prefix /foo");
  EXPECT_EQ(MatchIn({{false, "/foo"}}, "/foobar"), "");
  EXPECT_EQ(MatchIn({{false, "/aaa"}}, "/ccc"), "");
}

TEST(KubernetesPathExamples, LongestPrefixWins) {
  EXPECT_EQ(MatchIn({{false, "/aaa"}, {false, "/"}}, "/aaa/ccc"), "Prefix /aaa");
  const std::vector<Rule> three = {{false, "/aaa/bbb"}, {false, "/aaa"}, {false, "/"}};
  EXPECT_EQ(MatchIn(three, "/aaa/bbb"), "Prefix /aaa/bbb");
  EXPECT_EQ(MatchIn(three, "/ccc"), "Prefix /");
}

TEST(KubernetesPathExamples, ExactBeatsPrefixOfTheSamePath) {
  EXPECT_EQ(MatchIn({{true, "/foo"}, {false, "/foo"}}, "/foo"), "Exact /foo");
  EXPECT_EQ(MatchIn({{true, "/foo"}, {false, "/foo"}}, "/foo/x"), "Prefix /foo");
}

TEST(PathMatching, PercentEncodingIsComparedAsReceived) {
  EXPECT_EQ(MatchIn({{false, "/foo"}}, "/%66oo"), "");
  EXPECT_EQ(MatchIn({{false, "/a"}}, "/a%2Fb"), "");
  EXPECT_EQ(MatchIn({{false, "/a%20b"}}, "/a%20b/c"), "Prefix /a%20b");
}

TEST(PathMatching, FirstMatchInSnapshotOrderWins) {
  // The dataplane does not reorder: precedence is the controller's job.
  EXPECT_EQ(MatchIn({{false, "/"}, {false, "/aaa"}}, "/aaa"), "Prefix /");
}

TEST(PathMatching, PrefixPathsAreStoredNormalised) {
  auto config = Config::Build(SnapshotBuilder().Cluster("c").Host("").Prefix("/foo/").Exact("/bar/").Get());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ((*config)->Match("", "/foo/x")->path, "/foo");
  EXPECT_EQ((*config)->Match("", "/bar/")->path, "/bar/");
}

}  // namespace
}  // namespace pier::dataplane
