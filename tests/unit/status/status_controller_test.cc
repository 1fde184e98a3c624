#include "status/status_controller.h"

#include <gtest/gtest.h>

#include <thread>

#include "memory_api.h"

namespace pier::status {
namespace {

using testing::MemoryApi;

const std::string kPath = "/apis/networking.k8s.io/v1/namespaces/app/ingresses/web";

nlohmann::json IngressJson() {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "Ingress"},
          {"metadata", {{"namespace", "app"}, {"name", "web"}, {"uid", "uid-web"}, {"resourceVersion", "5"}}},
          {"spec", {{"ingressClassName", "pier"}}}};
}

model::ClusterState State() {
  model::ClusterState state;
  EXPECT_TRUE(state.Upsert(IngressJson()));
  EXPECT_TRUE(state.Upsert({{"apiVersion", "v1"},
                            {"kind", "Service"},
                            {"metadata", {{"namespace", "pier"}, {"name", "dataplane"}}},
                            {"spec", {{"clusterIP", "10.96.0.10"}}}}));
  return state;
}

translate::Output Output(std::vector<translate::Warning> warnings = {}) {
  translate::Output output;
  output.served_ingresses = {"app/web"};
  output.warnings = std::move(warnings);
  return output;
}

translate::Warning BadAnnotation() {
  return {.ingress_namespace = "app", .ingress_name = "web", .reason = "InvalidAnnotation",
          .message = "pier.dev/limit-rps: \"x\" is not a number", .annotation = "pier.dev/limit-rps"};
}

// Polls until `count` writes of `verb` happened (the controller writes on its own thread).
bool WaitForWrites(MemoryApi& api, const std::string& verb, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    std::size_t seen = 0;
    for (const auto& write : api.Writes()) seen += write.verb == verb;
    if (seen >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::size_t CountWrites(MemoryApi& api, const std::string& verb) {
  std::size_t seen = 0;
  for (const auto& write : api.Writes()) seen += write.verb == verb;
  return seen;
}

PublishOptions Service(const std::string& name) { return {.service = name, .addresses = {}}; }

// Lets the controller thread run a pass that should write nothing.
void Settle() { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

TEST(MakeStatusInputTest, CarriesServedIngressesPublishedAddressAndWarningUids) {
  const auto input = MakeStatusInput(State(), Output({BadAnnotation()}), Service("pier/dataplane"));
  ASSERT_EQ(input.ingresses.size(), 1u);
  EXPECT_TRUE(input.ingresses[0].served);
  EXPECT_EQ(input.ingresses[0].resource_version, "5");
  ASSERT_TRUE(input.published.has_value());
  EXPECT_EQ(input.published->at(0).ip, "10.96.0.10");
  ASSERT_EQ(input.warnings.size(), 1u);
  EXPECT_EQ(input.warnings[0].target.uid, "uid-web");
}

TEST(MakeStatusInputTest, MissingOrUnsetPublishServiceWritesNoStatus) {
  EXPECT_FALSE(MakeStatusInput(State(), Output(), Service("pier/absent")).published.has_value());
  const auto unset = MakeStatusInput(State(), Output(), PublishOptions{});
  EXPECT_FALSE(unset.published.has_value());
  EXPECT_TRUE(unset.ingresses.empty());
}

TEST(MakeStatusInputTest, FixedAddressesWinOverThePublishService) {
  const Addresses fixed = {{.ip = "192.0.2.10", .hostname = ""}, {.ip = "", .hostname = "lb.example.com"}};
  const auto input = MakeStatusInput(State(), Output(), {.service = "pier/dataplane", .addresses = fixed});
  ASSERT_TRUE(input.published.has_value());
  EXPECT_EQ(*input.published, fixed);
  ASSERT_EQ(input.ingresses.size(), 1u);
  // Without any Service at all, too.
  const auto alone = MakeStatusInput(State(), Output(), {.service = "", .addresses = fixed});
  ASSERT_TRUE(alone.published.has_value());
  EXPECT_EQ(*alone.published, fixed);
}

TEST(StatusControllerTest, OnlyTheLeaderWrites) {
  auto api = std::make_shared<MemoryApi>();
  api->Put(kPath, IngressJson());
  StatusController controller(api, {.publish = {.service = "pier/dataplane", .addresses = {}}, .events = {}});
  controller.Start();
  controller.Update(MakeStatusInput(State(), Output({BadAnnotation()}), Service("pier/dataplane")));
  Settle();
  EXPECT_TRUE(api->Writes().empty());
  controller.SetLeader(true);
  ASSERT_TRUE(WaitForWrites(*api, "update-status", 1));
  ASSERT_TRUE(WaitForWrites(*api, "create", 1));
  EXPECT_EQ(api->Object(kPath).value()["status"]["loadBalancer"]["ingress"][0]["ip"], "10.96.0.10");
  controller.Stop();
}

TEST(StatusControllerTest, AWarningBecomesOneEventNotOnePerBuild) {
  auto api = std::make_shared<MemoryApi>();
  StatusController controller(api, {.publish = {}, .events = {}});
  controller.Start();
  controller.SetLeader(true);
  for (int build = 0; build < 5; ++build) {
    controller.Update(MakeStatusInput(State(), Output({BadAnnotation()}), PublishOptions{}));
    Settle();
  }
  EXPECT_EQ(CountWrites(*api, "create"), 1u);
  // It goes away and comes back: the same Event again, as a series.
  controller.Update(MakeStatusInput(State(), Output(), PublishOptions{}));
  Settle();
  controller.Update(MakeStatusInput(State(), Output({BadAnnotation()}), PublishOptions{}));
  ASSERT_TRUE(WaitForWrites(*api, "patch", 1));
  EXPECT_EQ(CountWrites(*api, "create"), 1u);
  controller.Stop();
}

TEST(StatusControllerTest, FailedWritesAreRetriedWithBackoff) {
  auto api = std::make_shared<MemoryApi>();
  api->Put(kPath, IngressJson());
  api->FailNext("update-status", 503);
  api->FailNext("create", 503);
  StatusController controller(api, {.publish = {.service = "pier/dataplane", .addresses = {}}, .events = {}});
  controller.Start();
  controller.SetLeader(true);
  controller.Update(MakeStatusInput(State(), Output({BadAnnotation()}), Service("pier/dataplane")));
  // One failed attempt each, then the retry after the first backoff step (about 0.8 s).
  ASSERT_TRUE(WaitForWrites(*api, "update-status", 2));
  ASSERT_TRUE(WaitForWrites(*api, "create", 2));
  EXPECT_EQ(api->Object(kPath).value()["status"]["loadBalancer"]["ingress"][0]["ip"], "10.96.0.10");
  controller.Stop();
}

TEST(StatusControllerTest, NothingIsWrittenAfterLosingLeadership) {
  auto api = std::make_shared<MemoryApi>();
  StatusController controller(api, {.publish = {}, .events = {}});
  controller.Start();
  controller.SetLeader(true);
  controller.Update(MakeStatusInput(State(), Output({BadAnnotation()}), PublishOptions{}));
  ASSERT_TRUE(WaitForWrites(*api, "create", 1));
  controller.SetLeader(false);
  auto other = BadAnnotation();
  other.message = "another problem";
  controller.Update(MakeStatusInput(State(), Output({BadAnnotation(), other}), PublishOptions{}));
  Settle();
  EXPECT_EQ(api->Writes().size(), 1u);
  controller.Stop();
}

}  // namespace
}  // namespace pier::status
