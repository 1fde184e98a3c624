#include "server/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace pier::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json Service(const std::string& name, int port = 80) {
  return json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", name}, {"namespace", "web"}}},
              {"spec", {{"ports", json::array({json{{"port", port}}})}}}};
}

json Secret(const std::string& name) {
  return json{{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", "web"}}}};
}

// Records what the loop publishes; the fake translator makes one virtual host per Service
// ("name:port"), so tests can tell snapshots apart without depending on real translation.
class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { Create(100ms, 500ms); }

  // Timing tests on a busy machine are made robust by choosing windows far apart.
  void Create(std::chrono::milliseconds quiet, std::chrono::milliseconds max_delay) {
    if (loop_) loop_->Stop();
    EventLoopOptions options;
    options.translate = [this](const model::ClusterState& state) {
      ++builds_;
      translate::Output output;
      for (const auto& [key, service] : state.services) {
        output.snapshot.add_virtual_hosts()->set_host(key + ":" + std::to_string(service.ports.at(0).port));
      }
      return output;
    };
    options.quiet = quiet;
    options.max_delay = max_delay;
    loop_ = std::make_unique<EventLoop>(std::move(options), "test-instance", [this](SnapshotMessage message) {
      {
        std::lock_guard lock(mutex_);
        published_.push_back(std::move(message));
      }
      changed_.notify_all();
    });
  }

  void TearDown() override { loop_->Stop(); }

  // Waits for the n-th published snapshot (1-based).
  SnapshotMessage WaitForPublished(std::size_t n, std::chrono::milliseconds timeout = 2s) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return published_.size() >= n; })) return nullptr;
    return published_[n - 1];
  }

  std::size_t PublishedCount() {
    std::lock_guard lock(mutex_);
    return published_.size();
  }

  std::vector<std::string> Hosts(const SnapshotMessage& message) {
    std::vector<std::string> hosts;
    const pier::v1::ControllerMessage parsed = message->Parse();
    for (const auto& vhost : parsed.snapshot().virtual_hosts()) hosts.push_back(vhost.host());
    return hosts;
  }

  std::unique_ptr<EventLoop> loop_;
  std::atomic<int> builds_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<SnapshotMessage> published_;
};

TEST_F(EventLoopTest, NothingIsBuiltBeforeEverySourceSynced) {
  Create(3s, 10s);
  auto& manifests = loop_->AddSource("a");
  auto& other = loop_->AddSource("b");
  loop_->Start();
  manifests.Upsert(Service("one"));
  manifests.Synced();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(builds_.load(), 0);
  EXPECT_FALSE(loop_->HasSnapshot());

  const auto synced_at = std::chrono::steady_clock::now();
  other.Synced();
  auto first = WaitForPublished(1);
  ASSERT_TRUE(first);
  // The first snapshot does not wait for a quiet period (3 s here).
  EXPECT_LT(std::chrono::steady_clock::now() - synced_at, 2s);
  EXPECT_EQ(first->Parse().snapshot().version(), 1u);
  EXPECT_EQ(first->Parse().snapshot().controller_instance(), "test-instance");
  EXPECT_EQ(Hosts(first), std::vector<std::string>{"web/one:80"});
  EXPECT_TRUE(loop_->HasSnapshot());
  EXPECT_EQ(loop_->PublishedVersion(), 1u);
}

TEST_F(EventLoopTest, EmptyClusterStillGetsAFirstSnapshot) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Synced();
  auto first = WaitForPublished(1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->Parse().snapshot().version(), 1u);
  EXPECT_EQ(first->Parse().snapshot().virtual_hosts_size(), 0);
}

TEST_F(EventLoopTest, BurstOfChangesIsOneSnapshot) {
  Create(300ms, 2s);
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Synced();
  ASSERT_TRUE(WaitForPublished(1));
  const int builds_before = builds_.load();
  for (int i = 0; i < 20; ++i) sink.Upsert(Service("svc-" + std::to_string(i)));
  auto second = WaitForPublished(2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->Parse().snapshot().version(), 2u);
  EXPECT_EQ(second->Parse().snapshot().virtual_hosts_size(), 20);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(builds_.load(), builds_before + 1);
  EXPECT_EQ(PublishedCount(), 2u);
}

TEST_F(EventLoopTest, ChangeIsBuiltAfterTheQuietPeriod) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Synced();
  ASSERT_TRUE(WaitForPublished(1));
  const auto changed_at = std::chrono::steady_clock::now();
  sink.Upsert(Service("one"));
  ASSERT_TRUE(WaitForPublished(2));
  const auto elapsed = std::chrono::steady_clock::now() - changed_at;
  EXPECT_GE(elapsed, 95ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(EventLoopTest, IdenticalObjectTriggersNoBuild) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Upsert(Service("one"));
  sink.Synced();
  ASSERT_TRUE(WaitForPublished(1));
  const int builds_before = builds_.load();
  sink.Upsert(Service("one"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(builds_.load(), builds_before);
}

TEST_F(EventLoopTest, ChangeThatDoesNotAlterTheSnapshotKeepsTheVersion) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Synced();
  ASSERT_TRUE(WaitForPublished(1));
  const int builds_before = builds_.load();
  sink.Upsert(Secret("unused"));  // the fake translator ignores Secrets
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(builds_.load(), builds_before + 1);
  EXPECT_EQ(PublishedCount(), 1u);
  EXPECT_EQ(loop_->PublishedVersion(), 1u);
}

TEST_F(EventLoopTest, VersionsIncreaseByOnePerChange) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Upsert(Service("one", 80));
  sink.Synced();
  ASSERT_TRUE(WaitForPublished(1));
  sink.Upsert(Service("one", 81));
  auto second = WaitForPublished(2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->Parse().snapshot().version(), 2u);
  EXPECT_EQ(Hosts(second), std::vector<std::string>{"web/one:81"});
  sink.Delete(model::Kind::kService, "web/one");
  auto third = WaitForPublished(3);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->Parse().snapshot().version(), 3u);
  EXPECT_EQ(third->Parse().snapshot().virtual_hosts_size(), 0);
}

TEST_F(EventLoopTest, InvalidObjectIsIgnoredAndKeepsItsPreviousVersion) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Upsert(Service("one", 80));
  sink.Synced();
  ASSERT_TRUE(WaitForPublished(1));
  json broken = Service("one");
  broken["spec"]["ports"] = "eighty";
  sink.Upsert(broken);
  sink.Upsert(Service("two"));
  auto second = WaitForPublished(2);
  ASSERT_TRUE(second);
  EXPECT_EQ(Hosts(second), (std::vector<std::string>{"web/one:80", "web/two:80"}));
}

TEST_F(EventLoopTest, ReplaceRemovesUnlistedObjects) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Replace(model::Kind::kService, {Service("one"), Service("two")});
  sink.Synced();
  ASSERT_TRUE(WaitForPublished(1));
  sink.Replace(model::Kind::kService, {Service("two", 81), Service("three")});
  auto second = WaitForPublished(2);
  ASSERT_TRUE(second);
  EXPECT_EQ(Hosts(second), (std::vector<std::string>{"web/three:80", "web/two:81"}));
}

TEST_F(EventLoopTest, ReplaceWithOneBadObjectStillAppliesTheOthers) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Replace(model::Kind::kService, {Service("one"), Service("two"), Service("gone")});
  sink.Synced();
  ASSERT_TRUE(WaitForPublished(1));
  json broken = Service("two", 99);
  broken["spec"]["ports"] = "eighty";
  sink.Replace(model::Kind::kService, {Service("one", 81), broken, Service("new")});
  auto second = WaitForPublished(2);
  ASSERT_TRUE(second);
  // "two" keeps its previous (valid) version, "gone" is gone, the others are applied.
  EXPECT_EQ(Hosts(second), (std::vector<std::string>{"web/new:80", "web/one:81", "web/two:80"}));
}

TEST_F(EventLoopTest, StopIsPromptWithPendingWork) {
  auto& sink = loop_->AddSource("a");
  loop_->Start();
  sink.Synced();
  sink.Upsert(Service("one"));
  const auto start = std::chrono::steady_clock::now();
  loop_->Stop();
  loop_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  sink.Upsert(Service("two"));  // after Stop: dropped, not a crash
}

}  // namespace
}  // namespace pier::server
