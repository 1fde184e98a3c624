#include "pier/common/match.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace pier::match {
namespace {

struct Rule {
  bool exact;
  std::string path;
};

constexpr bool kExact = true;
constexpr bool kPrefix = false;

// The rule a request goes to among `rules`, by precedence order (as the dataplane evaluates a
// virtual host's routes): nullopt when none matches.
std::optional<std::string> Winner(std::vector<Rule> rules, std::string_view request) {
  std::stable_sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) {
    return ComparePrecedence({a.exact, a.path}, {b.exact, b.path}) < 0;
  });
  for (const Rule& rule : rules) {
    if (PathMatches(rule.exact, rule.path, request)) return std::string(rule.exact ? "Exact " : "Prefix ") + rule.path;
  }
  return std::nullopt;
}

// https://kubernetes.io/docs/concepts/services-networking/ingress/#examples, every row.
struct ExampleRow {
  std::vector<Rule> rules;
  std::string request;
  std::optional<std::string> winner;
};

class KubernetesExamples : public ::testing::TestWithParam<ExampleRow> {};

TEST_P(KubernetesExamples, MatchesAsDocumented) {
  const ExampleRow& row = GetParam();
  EXPECT_EQ(Winner(row.rules, row.request), row.winner) << "request " << row.request;
}

INSTANTIATE_TEST_SUITE_P(
    Table, KubernetesExamples,
    ::testing::Values(
        ExampleRow{{{kPrefix, "/"}}, "/", "Prefix /"},                              // (all paths)
        ExampleRow{{{kExact, "/foo"}}, "/foo", "Exact /foo"},                        //
        ExampleRow{{{kExact, "/foo"}}, "/bar", std::nullopt},                        //
        ExampleRow{{{kExact, "/foo"}}, "/foo/", std::nullopt},                       //
        ExampleRow{{{kExact, "/foo/"}}, "/foo", std::nullopt},                       //
        ExampleRow{{{kPrefix, "/foo"}}, "/foo", "Prefix /foo"},                      //
        ExampleRow{{{kPrefix, "/foo"}}, "/foo/", "Prefix /foo"},                     //
        ExampleRow{{{kPrefix, "/foo/"}}, "/foo", "Prefix /foo/"},                    //
        ExampleRow{{{kPrefix, "/foo/"}}, "/foo/", "Prefix /foo/"},                   //
        ExampleRow{{{kPrefix, "/aaa/bb"}}, "/aaa/bbb", std::nullopt},                //
        ExampleRow{{{kPrefix, "/aaa/bbb"}}, "/aaa/bbb", "Prefix /aaa/bbb"},          //
        ExampleRow{{{kPrefix, "/aaa/bbb/"}}, "/aaa/bbb", "Prefix /aaa/bbb/"},        // trailing slash ignored
        ExampleRow{{{kPrefix, "/aaa/bbb"}}, "/aaa/bbb/", "Prefix /aaa/bbb"},         // trailing slash ignored
        ExampleRow{{{kPrefix, "/aaa/bbb"}}, "/aaa/bbb/ccc", "Prefix /aaa/bbb"},      // subpath
        ExampleRow{{{kPrefix, "/aaa/bbb"}}, "/aaa/bbbxyz", std::nullopt},            // not a string prefix
        ExampleRow{{{kPrefix, "/"}, {kPrefix, "/aaa"}}, "/aaa/ccc", "Prefix /aaa"},  //
        ExampleRow{{{kPrefix, "/"}, {kPrefix, "/aaa"}, {kPrefix, "/aaa/bbb"}}, "/aaa/bbb", "Prefix /aaa/bbb"},
        ExampleRow{{{kPrefix, "/"}, {kPrefix, "/aaa"}, {kPrefix, "/aaa/bbb"}}, "/ccc", "Prefix /"},
        ExampleRow{{{kPrefix, "/aaa"}}, "/ccc", std::nullopt},                          //
        ExampleRow{{{kExact, "/foo"}, {kPrefix, "/foo"}}, "/foo", "Exact /foo"},         // Exact wins
        ExampleRow{{{kPrefix, "/foo"}, {kExact, "/foo"}}, "/foo", "Exact /foo"},         // whatever the input order
        ExampleRow{{{kPrefix, "/foo"}}, "/foo/bar", "Prefix /foo"},                     //
        ExampleRow{{{kPrefix, "/foo"}}, "/foobar", std::nullopt}));

TEST(PathMatches, RootPrefixNeedsAnAbsolutePath) {
  EXPECT_TRUE(PathMatches(kPrefix, "/", "/anything/at/all"));
  EXPECT_FALSE(PathMatches(kPrefix, "/", ""));
  EXPECT_FALSE(PathMatches(kPrefix, "/", "relative"));
}

TEST(PathMatches, PrefixWithManyTrailingSlashesIsTheSamePrefix) {
  EXPECT_TRUE(PathMatches(kPrefix, "/foo//", "/foo"));
  EXPECT_TRUE(PathMatches(kPrefix, "/foo//", "/foo/x"));
  EXPECT_FALSE(PathMatches(kPrefix, "/foo//", "/foox"));
}

TEST(PathMatches, IsCaseSensitive) {
  EXPECT_FALSE(PathMatches(kExact, "/Foo", "/foo"));
  EXPECT_FALSE(PathMatches(kPrefix, "/Foo", "/foo/bar"));
}

TEST(NormalizePrefix, StripsTrailingSlashesButKeepsRoot) {
  EXPECT_EQ(NormalizePrefix("/foo/"), "/foo");
  EXPECT_EQ(NormalizePrefix("/foo"), "/foo");
  EXPECT_EQ(NormalizePrefix("/"), "/");
  EXPECT_EQ(NormalizePrefix("//"), "/");
}

TEST(HostMatches, EmptyPatternMatchesEveryHost) {
  EXPECT_TRUE(HostMatches("", "a.example.com"));
  EXPECT_TRUE(HostMatches("", ""));
}

TEST(HostMatches, ExactHost) {
  EXPECT_TRUE(HostMatches("a.example.com", "a.example.com"));
  EXPECT_FALSE(HostMatches("a.example.com", "b.example.com"));
  EXPECT_FALSE(HostMatches("a.example.com", "x.a.example.com"));
}

TEST(HostMatches, WildcardCoversExactlyOneLabel) {
  EXPECT_TRUE(HostMatches("*.example.com", "foo.example.com"));
  EXPECT_FALSE(HostMatches("*.example.com", "example.com"));
  EXPECT_FALSE(HostMatches("*.example.com", ".example.com"));
  EXPECT_FALSE(HostMatches("*.example.com", "bar.foo.example.com"));
  EXPECT_FALSE(HostMatches("*.example.com", "fooexample.com"));
  EXPECT_FALSE(HostMatches("*.example.com", "foo.example.org"));
}

TEST(HostMatches, IsWildcardHost) {
  EXPECT_TRUE(IsWildcardHost("*.a"));
  EXPECT_FALSE(IsWildcardHost("*."));
  EXPECT_FALSE(IsWildcardHost("a.*.b"));
  EXPECT_FALSE(IsWildcardHost(""));
}

TEST(NormalizeHost, StripsPortAndLowercases) {
  EXPECT_EQ(NormalizeHost("Chat.Example.COM:8080"), "chat.example.com");
  EXPECT_EQ(NormalizeHost("chat.example.com"), "chat.example.com");
  EXPECT_EQ(NormalizeHost("chat.example.com."), "chat.example.com");
  EXPECT_EQ(NormalizeHost("chat.example.com.:443"), "chat.example.com");
  EXPECT_EQ(NormalizeHost("[::1]:8080"), "[::1]");
  EXPECT_EQ(NormalizeHost("[FE80::1]"), "[fe80::1]");
  EXPECT_EQ(NormalizeHost("10.0.0.1:80"), "10.0.0.1");
  EXPECT_EQ(NormalizeHost(""), "");
  EXPECT_EQ(NormalizeHost("::1"), "::1");
}

TEST(ComparePrecedence, LongerPathFirstThenExactThenBytes) {
  EXPECT_LT(ComparePrecedence({kPrefix, "/aaa/bbb"}, {kPrefix, "/aaa"}), 0);
  EXPECT_GT(ComparePrecedence({kPrefix, "/"}, {kExact, "/a"}), 0);
  EXPECT_LT(ComparePrecedence({kExact, "/foo"}, {kPrefix, "/foo"}), 0);
  EXPECT_LT(ComparePrecedence({kExact, "/foo"}, {kPrefix, "/foo/"}), 0);  // trailing "/" not counted
  EXPECT_LT(ComparePrecedence({kPrefix, "/abc"}, {kPrefix, "/abd"}), 0);
  EXPECT_EQ(ComparePrecedence({kPrefix, "/foo/"}, {kPrefix, "/foo"}), 0);
  EXPECT_EQ(ComparePrecedence({kExact, "/x"}, {kExact, "/x"}), 0);
}

TEST(ComparePrecedence, ARegexByItsLengthAsWrittenAfterExactAndPrefix) {
  const PathRule regex{false, "/api(/|$)(.*)", true};
  EXPECT_LT(ComparePrecedence(regex, {kPrefix, "/api"}), 0);  // longer text first
  EXPECT_GT(ComparePrecedence(regex, {kPrefix, "/a-much-longer-path"}), 0);
  EXPECT_LT(ComparePrecedence({false, "/foo/", true}, {kPrefix, "/foo/"}), 0);  // its "/" counts
  EXPECT_GT(ComparePrecedence({false, "/abcd", true}, {kPrefix, "/abcd"}), 0);
  EXPECT_GT(ComparePrecedence({false, "/abcd", true}, {kExact, "/abcd"}), 0);
  EXPECT_EQ(ComparePrecedence(regex, regex), 0);
}

}  // namespace
}  // namespace pier::match
