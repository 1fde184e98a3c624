// --default-backend-service: the Service that gets what no Ingress serves.
#include <gtest/gtest.h>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;

Options WithDefaultBackend(std::string service = "ingress/errors") {
  Options options;
  options.default_backend_service = std::move(service);
  return options;
}

// "errors" in namespace ingress (first port 8000, endpoint 10.0.0.9:8080), "app" in default.
State TwoServices() {
  State state;
  state.Backend("app");
  state.Add(ServiceBuilder("errors", "ingress").port("web", 8000).port("other", 9000));
  state.Add(SliceBuilder("errors-1", "errors", "ingress").port("web", 8080).endpoint("10.0.0.9"));
  return state;
}

const pier::v1::Route* RouteFor(const Output& out, const std::string& host, const std::string& path) {
  const pier::v1::VirtualHost* vhost = FindHost(out.snapshot, host);
  if (vhost == nullptr) return nullptr;
  for (const auto& route : vhost->routes()) {
    if (route.match().path() == path) return &route;
  }
  return nullptr;
}

std::string ServiceOf(const Output& out, const pier::v1::Route& route) {
  const pier::v1::Cluster* cluster = FindCluster(out.snapshot, route.cluster());
  return cluster == nullptr ? "" : cluster->service_namespace() + "/" + cluster->service_name();
}

TEST(DefaultBackendService, WithoutTheFlagNothingIsAdded) {
  State state = TwoServices();
  state.Add(IngressBuilder("shop").host("a.example").path("/api", "app", 80));
  const Output out = state.Translate();
  EXPECT_EQ(FindHost(out.snapshot, ""), nullptr);
  EXPECT_EQ(RouteNames(*FindHost(out.snapshot, "a.example")), std::vector<std::string>{"default/shop/0/0"});
  EXPECT_EQ(out.default_backend_problem, "");
}

TEST(DefaultBackendService, ServesUnknownHostsAndTheRootOfHostsWithoutOne) {
  State state = TwoServices();
  state.Add(IngressBuilder("shop").host("a.example").path("/api", "app", 80));
  state.Add(IngressBuilder("blog").host("b.example").path("/", "app", 80));
  const Output out = state.Translate(WithDefaultBackend());
  EXPECT_EQ(out.default_backend_problem, "");
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;

  const pier::v1::Route* any = RouteFor(out, "", "/");
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->name(), "default-backend");
  EXPECT_EQ(any->match().type(), pier::v1::PathMatch::PREFIX);
  EXPECT_EQ(ServiceOf(out, *any), "ingress/errors");
  const pier::v1::Cluster* cluster = FindCluster(out.snapshot, any->cluster());
  ASSERT_EQ(cluster->endpoints_size(), 1);
  EXPECT_EQ(cluster->endpoints(0).port(), 8080u);  // the Service's first port, "web"
  // Counted under the Service's namespace and no Ingress, as ingress-nginx's default backend.
  EXPECT_EQ(any->ingress().namespace_(), "ingress");
  EXPECT_EQ(any->ingress().name(), "");
  EXPECT_EQ(any->service(), "errors");

  const pier::v1::Route* root = RouteFor(out, "a.example", "/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->name(), "default-backend a.example");
  EXPECT_EQ(ServiceOf(out, *root), "ingress/errors");
  EXPECT_EQ(ServiceOf(out, *RouteFor(out, "a.example", "/api")), "default/app");
  // A host with its own "/" keeps it alone.
  EXPECT_EQ(RouteNames(*FindHost(out.snapshot, "b.example")), std::vector<std::string>{"default/blog/0/0"});
}

TEST(DefaultBackendService, AnIngressDefaultBackendOrRuleWithoutHostWinsTheCatchAll) {
  State state = TwoServices();
  state.Add(IngressBuilder("fallback").default_backend("app", 80));
  const Output out = state.Translate(WithDefaultBackend());
  EXPECT_EQ(RouteFor(out, "", "/")->name(), "default/fallback/default");
  EXPECT_EQ(ServiceOf(out, *RouteFor(out, "", "/")), "default/app");

  State rule = TwoServices();
  rule.Add(IngressBuilder("everyone").path("/", "app", 80));
  EXPECT_EQ(RouteFor(rule.Translate(WithDefaultBackend()), "", "/")->name(), "default/everyone/0/0");
}

TEST(DefaultBackendService, GivesTheErrorPagesOfCustomHttpErrorsWithoutDefaultBackend) {
  State state = TwoServices();
  state.Add(IngressBuilder("shop")
                .annotation("nginx.ingress.kubernetes.io/custom-http-errors", "404,503")
                .host("a.example")
                .path("/", "app", 80));
  const Output out = state.Translate(WithDefaultBackend());
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const pier::v1::Route* route = RouteFor(out, "a.example", "/");
  ASSERT_TRUE(route->has_custom_http_errors());
  const pier::v1::Cluster* errors = FindCluster(out.snapshot, route->custom_http_errors().cluster());
  ASSERT_NE(errors, nullptr);
  EXPECT_EQ(errors->service_namespace() + "/" + errors->service_name(), "ingress/errors");
  // Without the flag it stays reported, as before.
  EXPECT_FALSE(RouteFor(state.Translate(), "a.example", "/")->has_custom_http_errors());
  EXPECT_NE(FindWarning(state.Translate(), "InvalidAnnotation"), nullptr);
}

TEST(DefaultBackendService, AMissingServiceAddsNothingAndSaysWhy) {
  State state = TwoServices();
  state.Add(IngressBuilder("shop").host("a.example").path("/api", "app", 80));
  const Output out = state.Translate(WithDefaultBackend("ingress/nowhere"));
  EXPECT_EQ(FindHost(out.snapshot, ""), nullptr);
  EXPECT_EQ(RouteFor(out, "a.example", "/"), nullptr);
  EXPECT_EQ(out.default_backend_problem,
            "default backend service ingress/nowhere not found; requests no Ingress serves get Pier's 404");
  EXPECT_TRUE(out.warnings.empty()) << "the stand-in is no Ingress to warn on";
}

TEST(DefaultBackendService, WithoutReadyEndpointsItsRoutesStayAndSayWhy) {
  State state = TwoServices();
  state.Add(ServiceBuilder("idle", "ingress").port("web", 8000));
  const Output out = state.Translate(WithDefaultBackend("ingress/idle"));
  const pier::v1::Route* any = RouteFor(out, "", "/");
  ASSERT_NE(any, nullptr);
  // An empty cluster: the dataplane answers 503, as ingress-nginx does while its default
  // backend has no ready pod, and serves again as soon as one is ready.
  EXPECT_EQ(FindCluster(out.snapshot, any->cluster())->endpoints_size(), 0);
  EXPECT_EQ(out.default_backend_problem,
            "default backend service ingress/idle: service ingress/idle:8000 has no ready endpoints");
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
}

}  // namespace
}  // namespace pier::translate
