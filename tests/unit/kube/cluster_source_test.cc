#include "kube/cluster_source.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "fake_kube_client.h"

namespace pier::kube {
namespace {

using namespace fake;
using namespace std::chrono_literals;
using model::Kind;

// An EventSink that records calls as strings, as the controller's event loop would receive them.
class RecordingSink final : public sources::EventSink {
 public:
  void Upsert(nlohmann::json object) override { Add("upsert " + object.value("kind", "?") + " " + ObjectKey(object)); }
  void Delete(Kind kind, std::string key) override {
    Add("delete " + std::string(ResourceFor(kind).kind_name) + " " + key);
  }
  void Replace(Kind kind, std::vector<nlohmann::json> objects) override {
    std::string line = "replace " + std::string(ResourceFor(kind).kind_name);
    for (const auto& object : objects) line += " " + ObjectKey(object);
    Add(line);
  }
  void Synced() override { Add("synced"); }

  bool WaitFor(const std::string& line, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return std::find(lines_.begin(), lines_.end(), line) != lines_.end(); });
  }
  std::vector<std::string> Lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  void Add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

size_t IndexOf(const std::vector<std::string>& lines, const std::string& line) {
  return static_cast<size_t>(std::find(lines.begin(), lines.end(), line) - lines.begin());
}

TEST(ClusterSource, SyncedOnlyAfterEveryKindIsListed) {
  auto client = std::make_shared<FakeKubeClient>();
  // Services are listed last, after a delay: Synced must wait for them.
  client->AddList(Page({Object("ns", "web", "3")}, "10"), "/apis/networking.k8s.io/v1/namespaces/ns/ingresses");
  client->AddList(Page({Object("", "pier", "4")}, "10"), "/apis/networking.k8s.io/v1/ingressclasses");
  client->AddList(Page({}, "10"), "/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices");
  client->AddList(Page({}, "10"), "/api/v1/namespaces/ns/secrets");
  ClusterSourceOptions options;
  options.namespace_ = "ns";
  ClusterSource source(client, options);
  RecordingSink sink;
  ASSERT_TRUE(source.Start(sink).ok());
  ASSERT_TRUE(sink.WaitFor("replace Secret"));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(IndexOf(sink.Lines(), "synced"), sink.Lines().size()) << "synced before Services were listed";

  client->AddList(Page({Object("ns", "web", "5")}, "10"), "/api/v1/namespaces/ns/services");
  client->AddWatch({{Event(WatchEventType::kModified, Object("ns", "web", "11")),
                     Event(WatchEventType::kDeleted, Object("ns", "web", "12"))},
                    WatchEnd::kClosedByServer},
                   "/api/v1/namespaces/ns/services");
  ASSERT_TRUE(sink.WaitFor("synced"));
  ASSERT_TRUE(sink.WaitFor("delete Service ns/web"));
  source.Stop();

  auto lines = sink.Lines();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "synced"), 1);
  EXPECT_LT(IndexOf(lines, "replace Ingress ns/web"), IndexOf(lines, "synced"));
  EXPECT_LT(IndexOf(lines, "replace IngressClass pier"), IndexOf(lines, "synced"));
  EXPECT_LT(IndexOf(lines, "replace Service ns/web"), IndexOf(lines, "synced"));
  // Upserts carry kind (filled in by the informer), so the sink can tell what they are.
  EXPECT_LT(IndexOf(lines, "upsert Service ns/web"), IndexOf(lines, "delete Service ns/web"));
}

nlohmann::json SecretObject(const std::string& name, const std::string& type, const std::string& data_key,
                            const std::string& version) {
  nlohmann::json object = Object("ns", name, version);
  object["type"] = type;
  object["data"] = nlohmann::json::object();
  object["data"][data_key] = "Y2VydA==";
  return object;
}

// The API server cannot select "TLS or has ca.crt or auth": the source drops the other Secrets
// itself, a Secret that stops qualifying is a deletion, and one never kept is never mentioned.
TEST(ClusterSource, KeepsOnlyTlsCaAndHtpasswdSecrets) {
  auto client = std::make_shared<FakeKubeClient>();
  for (const char* path : {"/apis/networking.k8s.io/v1/namespaces/ns/ingresses", "/apis/networking.k8s.io/v1/ingressclasses",
                           "/api/v1/namespaces/ns/services", "/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices"}) {
    client->AddList(Page({}, "10"), path);
  }
  client->AddList(Page({SecretObject("cert", "kubernetes.io/tls", "tls.crt", "3"),
                        SecretObject("ca", "Opaque", "ca.crt", "4"), SecretObject("password", "Opaque", "password", "5"),
                        SecretObject("users", "Opaque", "auth", "6")},
                       "10"),
                  "/api/v1/namespaces/ns/secrets");
  client->AddWatch({{Event(WatchEventType::kModified, SecretObject("ca", "Opaque", "other", "11")),
                     Event(WatchEventType::kAdded, SecretObject("token", "Opaque", "token", "12")),
                     Event(WatchEventType::kDeleted, SecretObject("password", "Opaque", "password", "13")),
                     Event(WatchEventType::kAdded, SecretObject("ca2", "kubernetes.io/generic", "ca.crt", "14"))},
                    WatchEnd::kClosedByServer},
                   "/api/v1/namespaces/ns/secrets");
  ClusterSourceOptions options;
  options.namespace_ = "ns";
  ClusterSource source(client, options);
  RecordingSink sink;
  ASSERT_TRUE(source.Start(sink).ok());
  ASSERT_TRUE(sink.WaitFor("upsert Secret ns/ca2"));
  source.Stop();
  const auto lines = sink.Lines();
  EXPECT_LT(IndexOf(lines, "replace Secret ns/cert ns/ca ns/users"), lines.size());
  EXPECT_LT(IndexOf(lines, "delete Secret ns/ca"), lines.size()) << "ca.crt removed: no longer read";
  EXPECT_EQ(IndexOf(lines, "delete Secret ns/token"), lines.size()) << "never kept, nothing to delete";
  EXPECT_EQ(IndexOf(lines, "upsert Secret ns/token"), lines.size());
  EXPECT_EQ(IndexOf(lines, "delete Secret ns/password"), lines.size());
}

TEST(ClusterSource, StopIsPromptAndFinal) {
  auto client = std::make_shared<FakeKubeClient>();
  for (int i = 0; i < 5; ++i) client->AddList(Page({}, "10"));
  ClusterSource source(client, {});
  RecordingSink sink;
  ASSERT_TRUE(source.Start(sink).ok());
  ASSERT_TRUE(sink.WaitFor("synced"));
  ASSERT_TRUE(client->WaitForWatchCalls(5));
  const auto start = std::chrono::steady_clock::now();
  source.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  const size_t seen = sink.Lines().size();
  client->AddWatch({{Event(WatchEventType::kAdded, Object("a", "late", "20"))}, WatchEnd::kClosedByServer});
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(sink.Lines().size(), seen);
  EXPECT_FALSE(source.Start(sink).ok());  // one start per source
}

TEST(ClusterSource, FromKubeconfigReportsConfigErrors) {
  auto source = ClusterSource::FromKubeconfig("/nonexistent/kubeconfig");
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.error().find("/nonexistent/kubeconfig"), std::string::npos) << source.error();
}

}  // namespace
}  // namespace pier::kube
