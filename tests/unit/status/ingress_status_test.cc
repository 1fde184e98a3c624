#include "status/ingress_status.h"

#include <gtest/gtest.h>

#include "memory_api.h"
#include "status/status_writer.h"

namespace pier::status {
namespace {

using testing::MemoryApi;

model::LoadBalancerIngress Ip(const std::string& ip) { return {.ip = ip, .hostname = ""}; }
model::LoadBalancerIngress Host(const std::string& host) { return {.ip = "", .hostname = host}; }

TEST(PublishedAddressesTest, ClusterIpWhenNoLoadBalancer) {
  model::Service service;
  service.cluster_ip = "10.96.0.10";
  EXPECT_EQ(PublishedAddresses(service), Addresses{Ip("10.96.0.10")});
}

TEST(PublishedAddressesTest, LoadBalancerIngressWinsOverClusterIp) {
  model::Service service;
  service.cluster_ip = "10.96.0.10";
  service.load_balancer = {Ip("203.0.113.7"), Host("lb.example.com"), Ip("198.51.100.1"),
                           {.ip = "192.0.2.1", .hostname = "both.example.com"}};
  // Sorted; an entry with both an IP and a hostname stays one entry.
  EXPECT_EQ(PublishedAddresses(service),
            (Addresses{Host("lb.example.com"), {.ip = "192.0.2.1", .hostname = "both.example.com"},
                       Ip("198.51.100.1"), Ip("203.0.113.7")}));
}

TEST(PublishedAddressesTest, HeadlessServiceHasNoAddress) {
  model::Service service;
  service.cluster_ip = "None";
  EXPECT_TRUE(PublishedAddresses(service).empty());
}

TEST(ParseStatusAddressesTest, IpsAndNamesSortedWithoutDuplicates) {
  auto parsed = ParseStatusAddresses(" 192.0.2.10, LB.Example.com,2001:db8::1 ,192.0.2.10");
  ASSERT_TRUE(parsed) << parsed.error();
  const Addresses expected = {{.ip = "", .hostname = "lb.example.com"},
                              {.ip = "192.0.2.10", .hostname = ""},
                              {.ip = "2001:db8::1", .hostname = ""}};
  EXPECT_EQ(*parsed, expected);
}

TEST(ParseStatusAddressesTest, RefusesWhatIsNeitherAnAddressNorAName) {
  for (const char* bad : {"", " ", "192.0.2.10,", "192.0.2.300", "*.example.com", "exa mple.com", "http://x",
                          "-bad.example.com"}) {
    EXPECT_FALSE(ParseStatusAddresses(bad)) << bad;
  }
}

TEST(DesiredStatusTest, ServedGetsThePublishedAddresses) {
  EXPECT_EQ(DesiredStatus(true, {Ip("1.1.1.1")}, {Ip("10.0.0.1")}), Addresses{Ip("10.0.0.1")});
}

TEST(DesiredStatusTest, NotServedLosesOnlyOurEntries) {
  EXPECT_EQ(DesiredStatus(false, {Ip("10.0.0.1"), Ip("192.0.2.9")}, {Ip("10.0.0.1")}), Addresses{Ip("192.0.2.9")});
  EXPECT_TRUE(DesiredStatus(false, {}, {Ip("10.0.0.1")}).empty());
}

TEST(DesiredStatusTest, ComparisonIgnoresOrder) {
  EXPECT_TRUE(SameAddresses({Ip("2.2.2.2"), Ip("1.1.1.1")}, {Ip("1.1.1.1"), Ip("2.2.2.2")}));
  EXPECT_FALSE(SameAddresses({Ip("1.1.1.1")}, {Host("1.1.1.1")}));
}

const std::string kPath = "/apis/networking.k8s.io/v1/namespaces/app/ingresses/web";

nlohmann::json Ingress(const nlohmann::json& lb_ingress = nlohmann::json::array()) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "Ingress"},
          {"metadata", {{"namespace", "app"}, {"name", "web"}}},
          {"spec", {{"ingressClassName", "pier"}}},
          {"status", {{"loadBalancer", {{"ingress", lb_ingress}}}}}};
}

IngressStatusView View(MemoryApi& api, bool served) {
  const auto object = api.Object(kPath).value();
  IngressStatusView view{.namespace_ = "app", .name = "web",
                         .resource_version = object["metadata"]["resourceVersion"], .current = {}, .served = served};
  for (const auto& entry : object["status"]["loadBalancer"]["ingress"]) {
    view.current.push_back({.ip = entry.value("ip", ""), .hostname = entry.value("hostname", "")});
  }
  return view;
}

TEST(StatusWriterTest, WritesThroughTheStatusSubresourceOnlyWhenDifferent) {
  MemoryApi api;
  api.Put(kPath, Ingress());
  StatusWriter writer(api);
  auto result = writer.Sync({View(api, true)}, {Ip("10.96.0.10")});
  EXPECT_EQ(result.written, 1);
  ASSERT_EQ(api.Writes().size(), 1u);
  EXPECT_EQ(api.Writes()[0].verb, "update-status");
  EXPECT_EQ(api.Object(kPath).value()["status"]["loadBalancer"]["ingress"],
            nlohmann::json::parse(R"([{"ip":"10.96.0.10"}])"));
  // The informer has delivered our write: nothing more to do, not even a read.
  const int gets = api.Gets();
  result = writer.Sync({View(api, true)}, {Ip("10.96.0.10")});
  EXPECT_EQ(result.written, 0);
  EXPECT_EQ(api.Writes().size(), 1u);
  EXPECT_EQ(api.Gets(), gets);
}

TEST(StatusWriterTest, DoesNotRewriteWhileTheInformerLagsBehindItsOwnWrite) {
  MemoryApi api;
  api.Put(kPath, Ingress());
  StatusWriter writer(api);
  const auto stale = View(api, true);
  ASSERT_EQ(writer.Sync({stale}, {Ip("10.96.0.10")}).written, 1);
  EXPECT_EQ(writer.Sync({stale}, {Ip("10.96.0.10")}).written, 0);
  EXPECT_EQ(api.Writes().size(), 1u);
}

TEST(StatusWriterTest, PublishedAddressChangeIsWritten) {
  MemoryApi api;
  api.Put(kPath, Ingress(nlohmann::json::parse(R"([{"ip":"10.96.0.10"}])")));
  StatusWriter writer(api);
  EXPECT_EQ(writer.Sync({View(api, true)}, {Ip("203.0.113.7")}).written, 1);
  EXPECT_EQ(api.Object(kPath).value()["status"]["loadBalancer"]["ingress"],
            nlohmann::json::parse(R"([{"ip":"203.0.113.7"}])"));
}

TEST(StatusWriterTest, IngressNoLongerOursKeepsOthersEntries) {
  MemoryApi api;
  api.Put(kPath, Ingress(nlohmann::json::parse(R"([{"ip":"10.96.0.10"},{"hostname":"other.example"}])")));
  StatusWriter writer(api);
  EXPECT_EQ(writer.Sync({View(api, false)}, {Ip("10.96.0.10")}).written, 1);
  EXPECT_EQ(api.Object(kPath).value()["status"]["loadBalancer"]["ingress"],
            nlohmann::json::parse(R"([{"hostname":"other.example"}])"));
}

TEST(StatusWriterTest, ConflictIsReReadAndWritten) {
  MemoryApi api;
  api.Put(kPath, Ingress());
  StatusWriter writer(api);
  api.FailNext("update-status", 409);
  EXPECT_EQ(writer.Sync({View(api, true)}, {Ip("10.96.0.10")}).written, 1);
  EXPECT_EQ(api.Gets(), 2);
}

TEST(StatusWriterTest, GoneIngressIsNotAFailure) {
  MemoryApi api;
  api.Put(kPath, Ingress());
  const auto view = View(api, true);
  api.Remove(kPath);
  StatusWriter writer(api);
  const auto result = writer.Sync({view}, {Ip("10.96.0.10")});
  EXPECT_EQ(result.failed, 0);
  EXPECT_EQ(result.written, 0);
}

TEST(StatusWriterTest, ServerErrorIsReportedForRetryAndRetriedNextSync) {
  MemoryApi api;
  api.Put(kPath, Ingress());
  StatusWriter writer(api);
  api.FailNext("update-status", 500);
  EXPECT_EQ(writer.Sync({View(api, true)}, {Ip("10.96.0.10")}).failed, 1);
  EXPECT_EQ(writer.Sync({View(api, true)}, {Ip("10.96.0.10")}).written, 1);
}

}  // namespace
}  // namespace pier::status
