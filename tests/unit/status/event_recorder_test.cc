#include "status/event_recorder.h"

#include <gtest/gtest.h>

#include "memory_api.h"

namespace pier::status {
namespace {

using namespace std::chrono_literals;

using testing::FakeClock;
using testing::MemoryApi;

const EventTarget kWeb{.namespace_ = "app", .name = "web", .uid = "uid-web"};
const EventTarget kApi{.namespace_ = "app", .name = "api", .uid = "uid-api"};

EventRecorderConfig Config() {
  EventRecorderConfig config;
  config.reporting_controller = "pier.dev/ingress-controller";
  config.reporting_instance = "host_0123456789abcdef";
  return config;
}

TEST(EventRecorderTest, CreatesAnEventsK8sIoWarningOnTheIngress) {
  MemoryApi api;
  FakeClock clock;
  EventRecorder recorder(api, Config(), clock);
  EXPECT_EQ(recorder.Warning(kWeb, "InvalidAnnotation", "pier.dev/limit-rps: not a number"), EventOutcome::kCreated);
  const auto writes = api.Writes();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].path, "/apis/events.k8s.io/v1/namespaces/app/events");
  const auto& event = writes[0].body;
  EXPECT_EQ(event["type"], "Warning");
  EXPECT_EQ(event["reason"], "InvalidAnnotation");
  EXPECT_EQ(event["note"], "pier.dev/limit-rps: not a number");
  EXPECT_EQ(event["action"], "Sync");
  EXPECT_EQ(event["reportingController"], "pier.dev/ingress-controller");
  EXPECT_EQ(event["reportingInstance"], "host_0123456789abcdef");
  EXPECT_EQ(event["eventTime"], "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(event["regarding"]["kind"], "Ingress");
  EXPECT_EQ(event["regarding"]["uid"], "uid-web");
  EXPECT_EQ(event["metadata"]["namespace"], "app");
  EXPECT_EQ(event["metadata"]["name"].get<std::string>().rfind("web.", 0), 0u);
}

TEST(EventRecorderTest, RepeatWithinTheWindowBecomesASeries) {
  MemoryApi api;
  FakeClock clock;
  EventRecorder recorder(api, Config(), clock);
  ASSERT_EQ(recorder.Warning(kWeb, "NoEndpoints", "no endpoints"), EventOutcome::kCreated);
  clock.Advance(60s);
  EXPECT_EQ(recorder.Warning(kWeb, "NoEndpoints", "no endpoints"), EventOutcome::kSeriesUpdated);
  clock.Advance(60s);
  EXPECT_EQ(recorder.Warning(kWeb, "NoEndpoints", "no endpoints"), EventOutcome::kSeriesUpdated);
  const auto writes = api.Writes();
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(writes[2].verb, "patch");
  EXPECT_EQ(writes[2].body["series"]["count"], 3);
  EXPECT_EQ(writes[2].body["series"]["lastObservedTime"], "2026-01-01T00:02:00.000000Z");
  EXPECT_EQ(writes[2].path, writes[0].path + "/" + writes[0].body["metadata"]["name"].get<std::string>());
}

TEST(EventRecorderTest, DifferentNoteIsANewEventAndAfterTheWindowTheExistingOneContinues) {
  MemoryApi api;
  FakeClock clock;
  EventRecorder recorder(api, Config(), clock);
  ASSERT_EQ(recorder.Warning(kWeb, "NoEndpoints", "service a"), EventOutcome::kCreated);
  EXPECT_EQ(recorder.Warning(kWeb, "NoEndpoints", "service b"), EventOutcome::kCreated);
  clock.Advance(6min);
  // The Event still exists on the server under its stable name: it becomes a series.
  EXPECT_EQ(recorder.Warning(kWeb, "NoEndpoints", "service a"), EventOutcome::kSeriesUpdated);
  const auto writes = api.Writes();
  ASSERT_EQ(writes.size(), 4u);  // two creates, the refused create, the patch
  EXPECT_EQ(writes[3].verb, "patch");
  EXPECT_EQ(writes[3].body["series"]["count"], 2);
  EXPECT_EQ(writes[3].path, writes[0].path + "/" + writes[0].body["metadata"]["name"].get<std::string>());
}

TEST(EventRecorderTest, NamesAreStableAcrossRecordersAndDifferPerWarning) {
  MemoryApi first_api, second_api;
  FakeClock clock;
  EventRecorder first(first_api, Config(), clock), second(second_api, Config(), clock);
  ASSERT_EQ(first.Warning(kWeb, "NoEndpoints", "service a"), EventOutcome::kCreated);
  ASSERT_EQ(second.Warning(kWeb, "NoEndpoints", "service a"), EventOutcome::kCreated);
  ASSERT_EQ(second.Warning(kWeb, "NoEndpoints", "service b"), EventOutcome::kCreated);
  const auto a = first_api.Writes()[0].body["metadata"]["name"].get<std::string>();
  EXPECT_EQ(a, second_api.Writes()[0].body["metadata"]["name"].get<std::string>());
  EXPECT_NE(a, second_api.Writes()[1].body["metadata"]["name"].get<std::string>());
  EXPECT_EQ(a.size(), std::string("web.").size() + 16);
}

TEST(EventRecorderTest, ANewLeaderAdoptsTheEventsItsPredecessorCreated) {
  MemoryApi api;
  FakeClock clock;
  EventRecorder old_leader(api, Config(), clock);
  ASSERT_EQ(old_leader.Warning(kWeb, "NoEndpoints", "x"), EventOutcome::kCreated);
  clock.Advance(20s);
  EventRecorder new_leader(api, Config(), clock);
  EXPECT_EQ(new_leader.Warning(kWeb, "NoEndpoints", "x"), EventOutcome::kAlreadyRecorded);
  // Seen again by the new leader within the window: the same Event becomes a series.
  clock.Advance(60s);
  EXPECT_EQ(new_leader.Warning(kWeb, "NoEndpoints", "x"), EventOutcome::kSeriesUpdated);
  int creates = 0;
  for (const auto& write : api.Writes()) creates += write.verb == "create" ? 1 : 0;
  EXPECT_EQ(creates, 2);  // the original and the refused one: no second Event exists
  EXPECT_EQ(api.Writes().back().body["series"]["count"], 2);
}

TEST(EventRecorderTest, ExpiredSeriesEventIsCreatedAgain) {
  MemoryApi api;
  FakeClock clock;
  EventRecorder recorder(api, Config(), clock);
  ASSERT_EQ(recorder.Warning(kWeb, "NoEndpoints", "x"), EventOutcome::kCreated);
  const auto first = api.Writes()[0];
  api.Remove(first.path + "/" + first.body["metadata"]["name"].get<std::string>());  // its TTL ran out
  EXPECT_EQ(recorder.Warning(kWeb, "NoEndpoints", "x"), EventOutcome::kCreated);
}

TEST(EventRecorderTest, PerObjectBucketAllows25ThenOneEveryFiveMinutes) {
  MemoryApi api;
  FakeClock clock;
  EventRecorder recorder(api, Config(), clock);
  for (int i = 0; i < 25; ++i) {
    ASSERT_EQ(recorder.Warning(kWeb, "InvalidAnnotation", "note " + std::to_string(i)), EventOutcome::kCreated) << i;
  }
  EXPECT_EQ(recorder.Warning(kWeb, "InvalidAnnotation", "one too many"), EventOutcome::kRateLimited);
  // Another Ingress has its own bucket.
  EXPECT_EQ(recorder.Warning(kApi, "InvalidAnnotation", "fine"), EventOutcome::kCreated);
  clock.Advance(5min);
  EXPECT_EQ(recorder.Warning(kWeb, "InvalidAnnotation", "after refill"), EventOutcome::kCreated);
  EXPECT_EQ(recorder.Warning(kWeb, "InvalidAnnotation", "again too many"), EventOutcome::kRateLimited);
  EXPECT_EQ(api.Writes().size(), 27u);
}

TEST(EventRecorderTest, FailedCreateSpendsNoToken) {
  MemoryApi api;
  FakeClock clock;
  EventRecorderConfig config = Config();
  config.burst = 1;
  EventRecorder recorder(api, config, clock);
  api.FailNext("create", 500);
  EXPECT_EQ(recorder.Warning(kWeb, "NoEndpoints", "x"), EventOutcome::kFailed);
  EXPECT_EQ(recorder.Warning(kWeb, "NoEndpoints", "x"), EventOutcome::kCreated);
}

TEST(EventRecorderTest, LongNoteIsTruncatedToTheApiLimit) {
  MemoryApi api;
  FakeClock clock;
  EventRecorder recorder(api, Config(), clock);
  ASSERT_EQ(recorder.Warning(kWeb, "InvalidAnnotation", std::string(5000, 'x')), EventOutcome::kCreated);
  EXPECT_EQ(api.Writes()[0].body["note"].get<std::string>().size(), 1024u);
}

}  // namespace
}  // namespace pier::status
