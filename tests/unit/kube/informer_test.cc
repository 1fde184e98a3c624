#include "kube/informer.h"
#include "kube/secret_filter.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "fake_kube_client.h"

namespace pier::kube {
namespace {

using namespace fake;
using namespace std::chrono_literals;
using model::Kind;

WatchEvent Gone() {
  WatchEvent event;
  event.type = WatchEventType::kError;
  event.object = {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}};
  event.error = ErrorFromStatus(event.object);
  return event;
}

// Records callbacks as readable strings, e.g. "replace Ingress [a/x b/y]".
class Recorder {
 public:
  InformerCallbacks Callbacks() {
    InformerCallbacks callbacks;
    callbacks.on_replace = [this](Kind kind, std::vector<nlohmann::json> objects) {
      std::string line = "replace " + Name(kind) + " [";
      for (size_t i = 0; i < objects.size(); ++i) {
        line += (i ? " " : "") + ObjectKey(objects[i]);
        last_objects.push_back(objects[i]);
      }
      Add(line + "]");
    };
    callbacks.on_upsert = [this](Kind kind, nlohmann::json object) {
      last_objects.push_back(object);
      Add("upsert " + Name(kind) + " " + ObjectKey(object) + "@" + ResourceVersionOf(object));
    };
    callbacks.on_delete = [this](Kind kind, std::string key) { Add("delete " + Name(kind) + " " + key); };
    callbacks.on_synced = [this](Kind kind) { Add("synced " + Name(kind)); };
    return callbacks;
  }

  bool WaitFor(size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return lines_.size() >= count; });
  }
  std::vector<std::string> Lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

  std::vector<nlohmann::json> last_objects;  // written on the informer thread only

 private:
  static std::string Name(Kind kind) { return std::string(ResourceFor(kind).kind_name); }
  void Add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

InformerOptions FastOptions() {
  InformerOptions options;
  options.backoff = {.initial = 1ms, .max = 5ms};
  options.min_healthy_watch = 0ms;
  return options;
}

double RestartCount(std::string_view kind, RestartReason reason) {
  return WatchMetricsFor(kind).restarts[static_cast<size_t>(reason)]->Value();
}

double EventCount(std::string_view kind, WatchEventType type) {
  return WatchMetricsFor(kind).events[static_cast<size_t>(type)]->Value();
}

TEST(Informer, PagedListThenWatchEvents) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({Object("n", "a", "5")}, "10", "token-1"));
  client.AddList(Page({Object("n", "b", "7")}, "10"));
  client.AddWatch({{Event(WatchEventType::kAdded, Object("n", "c", "11")),
                    Event(WatchEventType::kModified, Object("n", "a", "12")),
                    Event(WatchEventType::kDeleted, Object("n", "b", "13")),
                    Event(WatchEventType::kBookmark, {{"metadata", {{"resourceVersion", "20"}}}})},
                   WatchEnd::kClosedByServer});
  const double closed_before = RestartCount("Ingress", RestartReason::kClosed);
  const double bookmarks_before = EventCount("Ingress", WatchEventType::kBookmark);

  Informer informer(client, ResourceFor(Kind::kIngress), FastOptions(), recorder.Callbacks());
  EXPECT_FALSE(informer.HasSynced());
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(5));
  ASSERT_TRUE(client.WaitForWatchCalls(2));  // resumed after the clean close
  informer.Stop();

  EXPECT_TRUE(informer.HasSynced());
  EXPECT_EQ(recorder.Lines(), (std::vector<std::string>{"replace Ingress [n/a n/b]", "synced Ingress",
                                                        "upsert Ingress n/c@11", "upsert Ingress n/a@12",
                                                        "delete Ingress n/b"}));
  // List items arrive without apiVersion/kind; consumers get them filled in.
  for (const auto& object : recorder.last_objects) {
    EXPECT_EQ(object["apiVersion"], "networking.k8s.io/v1");
    EXPECT_EQ(object["kind"], "Ingress");
  }

  auto lists = client.ListCalls();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].path, "/apis/networking.k8s.io/v1/ingresses");
  EXPECT_EQ(lists[0].list.limit, 500);
  EXPECT_EQ(lists[0].list.continue_token, "");
  EXPECT_EQ(lists[0].list.resource_version, "");  // a fresh, consistent read
  EXPECT_EQ(lists[1].list.continue_token, "token-1");

  auto watches = client.WatchCalls();
  ASSERT_GE(watches.size(), 2u);
  EXPECT_EQ(watches[0].watch.resource_version, "10");
  EXPECT_TRUE(watches[0].watch.allow_watch_bookmarks);
  EXPECT_GE(watches[0].watch.timeout, 300s);
  EXPECT_LE(watches[0].watch.timeout, 600s);
  EXPECT_EQ(watches[1].watch.resource_version, "20");  // from the bookmark, not re-listed
  EXPECT_EQ(RestartCount("Ingress", RestartReason::kClosed), closed_before + 1);
  EXPECT_EQ(EventCount("Ingress", WatchEventType::kBookmark), bookmarks_before + 1);
}

TEST(Informer, ErrorEvent410Relists) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({Object("n", "a", "5"), Object("n", "b", "6")}, "10"));
  client.AddWatch({{Gone()}, WatchEnd::kClosedByServer});
  client.AddList(Page({Object("n", "a", "5")}, "30"));
  const double gone_before = RestartCount("Service", RestartReason::kGone);

  Informer informer(client, ResourceFor(Kind::kService), FastOptions(), recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(3));
  ASSERT_TRUE(client.WaitForWatchCalls(2));
  informer.Stop();

  // The second replace lacks n/b: the consumer deletes it. Synced is reported only once.
  EXPECT_EQ(recorder.Lines(),
            (std::vector<std::string>{"replace Service [n/a n/b]", "synced Service", "replace Service [n/a]"}));
  EXPECT_EQ(client.WatchCalls()[1].watch.resource_version, "30");
  EXPECT_EQ(RestartCount("Service", RestartReason::kGone), gone_before + 1);
}

TEST(Informer, Http410Relists) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({}, "10"));
  client.AddWatch({{}, HttpError(410)});
  client.AddList(Page({Object("", "pier", "3")}, "40"));

  Informer informer(client, ResourceFor(Kind::kIngressClass), FastOptions(), recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(3));
  ASSERT_TRUE(client.WaitForWatchCalls(2));
  informer.Stop();
  EXPECT_EQ(recorder.Lines(), (std::vector<std::string>{"replace IngressClass []", "synced IngressClass",
                                                        "replace IngressClass [pier]"}));
  EXPECT_EQ(client.WatchCalls()[1].watch.resource_version, "40");
}

TEST(Informer, ExpiredContinueTokenFallsBackToOneUnpagedList) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({Object("n", "a", "1")}, "10", "token-1"));
  client.AddList(HttpError(410));
  client.AddList(Page({Object("n", "a", "1"), Object("n", "b", "2")}, "15"));

  Informer informer(client, ResourceFor(Kind::kEndpointSlice), FastOptions(), recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(2));
  informer.Stop();
  EXPECT_EQ(recorder.Lines()[0], "replace EndpointSlice [n/a n/b]");  // no duplicate n/a from page one
  auto lists = client.ListCalls();
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[2].list.limit, 0);
  EXPECT_EQ(lists[2].list.continue_token, "");
}

TEST(Informer, ErrorsResumeTheWatchFromTheLastVersionWithoutRelisting) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({}, "10"));
  client.AddWatch({{Event(WatchEventType::kAdded, Object("n", "x", "11"))}, ClientError("connection reset")});
  WatchEvent internal;
  internal.type = WatchEventType::kError;
  internal.error = HttpError(500);
  client.AddWatch({{internal}, WatchEnd::kClosedByServer});
  const double errors_before = RestartCount("Service", RestartReason::kError);

  Informer informer(client, ResourceFor(Kind::kService), FastOptions(), recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(client.WaitForWatchCalls(3));
  informer.Stop();
  auto watches = client.WatchCalls();
  EXPECT_EQ(watches[1].watch.resource_version, "11");
  EXPECT_EQ(watches[2].watch.resource_version, "11");
  EXPECT_EQ(client.ListCalls().size(), 1u);
  EXPECT_EQ(RestartCount("Service", RestartReason::kError), errors_before + 2);
}

TEST(Informer, ThrottledListHonoursRetryAfter) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(HttpError(429, 1s));
  client.AddList(Page({}, "10"));
  const double throttled_before = RestartCount("Secret", RestartReason::kThrottled);

  Informer informer(client, ResourceFor(Kind::kSecret), FastOptions(), recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(2, 10s));
  informer.Stop();
  auto lists = client.ListCalls();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_GE(lists[1].at - lists[0].at, 1s);
  EXPECT_EQ(RestartCount("Secret", RestartReason::kThrottled), throttled_before + 1);
}

TEST(Informer, SecretsAreFilteredServerSideAndNamespaced) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({}, "10"));
  InformerOptions options = FastOptions();
  options.namespace_ = "team-a";
  Informer informer(client, ResourceFor(Kind::kSecret), options, recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(client.WaitForWatchCalls(1));
  informer.Stop();
  EXPECT_EQ(client.ListCalls()[0].path, "/api/v1/namespaces/team-a/secrets");
  EXPECT_EQ(client.ListCalls()[0].list.field_selector, kSecretFieldSelector);
  EXPECT_EQ(client.WatchCalls()[0].path, "/api/v1/namespaces/team-a/secrets");
  EXPECT_EQ(client.WatchCalls()[0].watch.field_selector, kSecretFieldSelector);
}

TEST(Informer, StopIsPromptWhileWatching) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({}, "10"));
  Informer informer(client, ResourceFor(Kind::kIngress), FastOptions(), recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(client.WaitForWatchCalls(1));
  const auto start = std::chrono::steady_clock::now();
  informer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  informer.Stop();  // idempotent
}

TEST(Informer, StopIsPromptDuringBackoff) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(HttpError(500));
  InformerOptions options = FastOptions();
  options.backoff = {.initial = 20s, .max = 30s};
  Informer informer(client, ResourceFor(Kind::kIngress), options, recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(client.WaitForListCalls(1));
  std::this_thread::sleep_for(50ms);  // now sleeping ~20 s before the next attempt
  const auto start = std::chrono::steady_clock::now();
  informer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_EQ(client.ListCalls().size(), 1u);
}

TEST(Informer, ImmediateCleanClosesBackOff) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({}, "10"));
  for (int i = 0; i < 3; ++i) client.AddWatch({{}, WatchEnd::kClosedByServer});
  InformerOptions options = FastOptions();
  options.min_healthy_watch = 1s;
  options.backoff = {.initial = 200ms, .max = 200ms, .jitter = 0};
  Informer informer(client, ResourceFor(Kind::kService), options, recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(client.WaitForWatchCalls(2));
  informer.Stop();
  auto watches = client.WatchCalls();
  EXPECT_GE(watches[1].at - watches[0].at, 190ms);
}

TEST(Informer, ThrowingCallbackDoesNotStopDelivery) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({}, "10"));
  client.AddWatch({{Event(WatchEventType::kAdded, Object("n", "a", "11")),
                    Event(WatchEventType::kDeleted, Object("n", "a", "12"))},
                   WatchEnd::kClosedByServer});
  InformerCallbacks callbacks = recorder.Callbacks();
  callbacks.on_upsert = [](Kind, nlohmann::json) { throw std::runtime_error("consumer bug"); };
  Informer informer(client, ResourceFor(Kind::kService), FastOptions(), std::move(callbacks));
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(3));
  informer.Stop();
  EXPECT_EQ(recorder.Lines().back(), "delete Service n/a");
}

TEST(Informer, EventsWithoutNameAreSkipped) {
  FakeKubeClient client;
  Recorder recorder;
  client.AddList(Page({}, "10"));
  client.AddWatch({{Event(WatchEventType::kAdded, {{"metadata", {{"resourceVersion", "11"}}}}),
                    Event(WatchEventType::kAdded, Object("n", "ok", "12"))},
                   WatchEnd::kClosedByServer});
  Informer informer(client, ResourceFor(Kind::kService), FastOptions(), recorder.Callbacks());
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor(3));
  informer.Stop();
  EXPECT_EQ(recorder.Lines().back(), "upsert Service n/ok@12");
}

}  // namespace
}  // namespace pier::kube
