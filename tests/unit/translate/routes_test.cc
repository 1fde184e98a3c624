// Hosts, paths, route precedence, conflicts and default backends.
#include <gtest/gtest.h>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

TEST(Routes, OrderedLongestFirstExactBeforePrefixThenOldestIngress) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("young").created("2024-02-01T00:00:00Z").host("a.example").path("/b", "svc", 80));
  state.Add(IngressBuilder("old")
                .created("2024-01-01T00:00:00Z")
                .host("a.example")
                .path("/", "svc", 80)
                .path("/aaa", "svc", 80)
                .exact("/aaa", "svc", 80)
                .path("/aaa/bbb", "svc", 80)
                .path("/c", "svc", 80));
  const Output out = state.Translate();
  const auto* vhost = FindHost(out.snapshot, "a.example");
  ASSERT_NE(vhost, nullptr);
  // Equal-length different paths can never match the same request; their order is by bytes.
  EXPECT_EQ(RouteNames(*vhost), (Strings{"default/old/0/3", "default/old/0/2", "default/old/0/1", "default/young/0/0",
                                         "default/old/0/4", "default/old/0/0"}));
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
}

TEST(Routes, RouteCarriesIngressMatchServiceAndCluster) {
  State state;
  state.Backend("chat", "apps");
  state.Add(IngressBuilder("app", "apps").host("chat.example").path("/ws/", "chat", 80));
  const Output out = state.Translate();
  const auto& route = FindHost(out.snapshot, "chat.example")->routes(0);
  EXPECT_EQ(route.name(), "apps/app/0/0");
  EXPECT_EQ(route.ingress().namespace_(), "apps");
  EXPECT_EQ(route.ingress().name(), "app");
  EXPECT_EQ(route.match().type(), pier::v1::PathMatch::PREFIX);
  EXPECT_EQ(route.match().path(), "/ws") << "a Prefix path is emitted without its insignificant trailing slash";
  EXPECT_EQ(route.service(), "chat");
  EXPECT_EQ(route.cluster(), "apps/chat:80");
  EXPECT_FALSE(route.has_unavailable());
  EXPECT_EQ(out.served_ingresses, Strings{"apps/app"});
}

TEST(Routes, ExactPathKeepsItsTrailingSlash) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("app").host("a.example").exact("/foo/", "svc", 80));
  const Output out = state.Translate();
  const auto& route = FindHost(out.snapshot, "a.example")->routes(0);
  EXPECT_EQ(route.match().type(), pier::v1::PathMatch::EXACT);
  EXPECT_EQ(route.match().path(), "/foo/");
}

TEST(Routes, ImplementationSpecificIsPrefixAndEmptyMeansRoot) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("app")
                .host("a.example")
                .path("/x", "svc", 80, model::PathType::kImplementationSpecific)
                .path("", "svc", 80, model::PathType::kImplementationSpecific));
  const Output out = state.Translate();
  const auto* vhost = FindHost(out.snapshot, "a.example");
  ASSERT_EQ(vhost->routes_size(), 2);
  EXPECT_EQ(vhost->routes(0).match().type(), pier::v1::PathMatch::PREFIX);
  EXPECT_EQ(vhost->routes(0).match().path(), "/x");
  EXPECT_EQ(vhost->routes(1).match().path(), "/");
}

TEST(Routes, InvalidPathsAreWarnedAndSkipped) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("app")
                .host("a.example")
                .path("relative", "svc", 80)
                .path("", "svc", 80, model::PathType::kExact)
                .path("/has space", "svc", 80)
                .path("/ok", "svc", 80));
  const Output out = state.Translate();
  EXPECT_EQ(RouteNames(*FindHost(out.snapshot, "a.example")), Strings{"default/app/0/3"});
  EXPECT_EQ(Reasons(out), (Strings{"InvalidPath", "InvalidPath", "InvalidPath"}));
  EXPECT_NE(out.warnings[0].message.find("\"relative\""), std::string::npos) << out.warnings[0].message;
}

TEST(Hosts, LowercasedWildcardAndCatchAll) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("app")
                .host("Chat.Example.COM")
                .path("/", "svc", 80)
                .host("*.example.com")
                .path("/", "svc", 80)
                .host("")
                .path("/", "svc", 80));
  const Output out = state.Translate();
  ASSERT_EQ(out.snapshot.virtual_hosts_size(), 3);
  EXPECT_EQ(out.snapshot.virtual_hosts(0).host(), "");
  EXPECT_EQ(out.snapshot.virtual_hosts(1).host(), "*.example.com");
  EXPECT_EQ(out.snapshot.virtual_hosts(2).host(), "chat.example.com");
}

TEST(Hosts, InvalidHostsAreWarnedAndSkipped) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("app")
                .host("*")
                .path("/", "svc", 80)
                .host("a.*.example")
                .path("/", "svc", 80)
                .host("a_b.example")
                .path("/", "svc", 80)
                .host("good.example")
                .path("/", "svc", 80));
  const Output out = state.Translate();
  ASSERT_EQ(out.snapshot.virtual_hosts_size(), 1);
  EXPECT_EQ(out.snapshot.virtual_hosts(0).host(), "good.example");
  EXPECT_EQ(Reasons(out), (Strings{"InvalidHost", "InvalidHost", "InvalidHost"}));
}

TEST(Conflicts, OldestIngressWinsAndTheLoserIsWarned) {
  State state;
  state.Backend("old-svc");
  state.Backend("new-svc");
  state.Add(IngressBuilder("newer").created("2024-03-01T00:00:00Z").host("a.example").path("/chat/", "new-svc", 80));
  state.Add(IngressBuilder("older").created("2024-01-01T00:00:00Z").host("A.example").path("/chat", "old-svc", 80));
  const Output out = state.Translate();
  const auto* vhost = FindHost(out.snapshot, "a.example");
  ASSERT_EQ(vhost->routes_size(), 1);
  EXPECT_EQ(vhost->routes(0).service(), "old-svc");
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "ConflictingPath");
  EXPECT_EQ(out.warnings[0].ingress_name, "newer");
  EXPECT_NE(out.warnings[0].message.find("default/older"), std::string::npos) << out.warnings[0].message;
  EXPECT_EQ(out.served_ingresses, (Strings{"default/newer", "default/older"}));
}

TEST(Conflicts, SameTimestampFallsBackToNamespaceThenName) {
  State state;
  state.Backend("svc-b", "b");
  state.Backend("svc-a", "a");
  state.Backend("svc-z", "a");
  state.Add(IngressBuilder("x", "b").host("a.example").path("/", "svc-b", 80));
  state.Add(IngressBuilder("z", "a").host("a.example").path("/", "svc-z", 80));
  state.Add(IngressBuilder("y", "a").host("a.example").path("/", "svc-a", 80));
  const Output out = state.Translate();
  EXPECT_EQ(FindHost(out.snapshot, "a.example")->routes(0).name(), "a/y/0/0");
  EXPECT_EQ(Reasons(out), (Strings{"ConflictingPath", "ConflictingPath"}));
}

TEST(Conflicts, ExactAndPrefixOnTheSamePathBothServe) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("a").created("2024-01-01T00:00:00Z").host("h.example").exact("/foo", "svc", 80));
  state.Add(IngressBuilder("b").created("2024-01-02T00:00:00Z").host("h.example").path("/foo", "svc", 80));
  const Output out = state.Translate();
  EXPECT_EQ(RouteNames(*FindHost(out.snapshot, "h.example")), (Strings{"default/a/0/0", "default/b/0/0"}));
  EXPECT_TRUE(out.warnings.empty());
}

TEST(Conflicts, DuplicateInsideOneIngressKeepsTheFirst) {
  State state;
  state.Backend("one");
  state.Backend("two");
  state.Add(IngressBuilder("app").host("h.example").path("/x", "one", 80).path("/x/", "two", 80));
  const Output out = state.Translate();
  EXPECT_EQ(FindHost(out.snapshot, "h.example")->routes(0).service(), "one");
  EXPECT_EQ(Reasons(out), Strings{"ConflictingPath"});
}

TEST(DefaultBackend, CatchAllRouteAndAppendedToEveryHostOfTheIngress) {
  State state;
  state.Backend("web");
  state.Backend("chat");
  state.Add(IngressBuilder("app")
                .default_backend("web", 80)
                .host("a.example")
                .path("/ws", "chat", 80)
                .host("b.example")
                .path("/ws", "chat", 80)
                .host("a.example")
                .path("/other", "chat", 80));
  const Output out = state.Translate();
  const auto* catch_all = FindHost(out.snapshot, "");
  ASSERT_NE(catch_all, nullptr);
  ASSERT_EQ(catch_all->routes_size(), 1);
  EXPECT_EQ(catch_all->routes(0).name(), "default/app/default");
  EXPECT_EQ(catch_all->routes(0).match().path(), "/");
  EXPECT_EQ(catch_all->routes(0).service(), "web");

  EXPECT_EQ(RouteNames(*FindHost(out.snapshot, "a.example")),
            (Strings{"default/app/2/0", "default/app/0/0", "default/app/0/default"}));
  EXPECT_EQ(RouteNames(*FindHost(out.snapshot, "b.example")), (Strings{"default/app/1/0", "default/app/1/default"}));
  EXPECT_TRUE(out.warnings.empty());
}

TEST(DefaultBackend, YieldsSilentlyToAnyRuleEvenOfAYoungerIngress) {
  State state;
  state.Backend("web");
  state.Backend("root");
  state.Add(IngressBuilder("old").created("2024-01-01T00:00:00Z").default_backend("web", 80).host("a.example").path("/x", "web", 80));
  state.Add(IngressBuilder("young").created("2024-06-01T00:00:00Z").host("a.example").path("/", "root", 80));
  state.Add(IngressBuilder("catch").created("2024-06-01T00:00:00Z").host("").path("/", "root", 80));
  const Output out = state.Translate();
  EXPECT_EQ(RouteNames(*FindHost(out.snapshot, "a.example")), (Strings{"default/old/0/0", "default/young/0/0"}));
  EXPECT_EQ(RouteNames(*FindHost(out.snapshot, "")), Strings{"default/catch/0/0"});
  EXPECT_TRUE(out.warnings.empty());
}

TEST(DefaultBackend, TwoIngressesWithDefaultBackendsOldestWins) {
  State state;
  state.Backend("web1");
  state.Backend("web2");
  state.Add(IngressBuilder("second").created("2024-02-01T00:00:00Z").default_backend("web2", 80));
  state.Add(IngressBuilder("first").created("2024-01-01T00:00:00Z").default_backend("web1", 80));
  const Output out = state.Translate();
  EXPECT_EQ(FindHost(out.snapshot, "")->routes(0).service(), "web1");
  ASSERT_EQ(Reasons(out), Strings{"ConflictingPath"});
  EXPECT_EQ(out.warnings[0].ingress_name, "second");
}

}  // namespace
}  // namespace pier::translate
