// ConfigClient against a fake controller over real gRPC on loopback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/security/server_credentials.h>
#include <prometheus/counter.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "config/config_client.h"
#include "config/config_metrics.h"
#include "fake_controller.h"
#include "test_certificate.h"

namespace pier::dataplane {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;
using testing::FakeController;

v1::Snapshot ValidSnapshot(uint64_t version, const std::string& instance) {
  v1::Snapshot snapshot;
  snapshot.set_version(version);
  snapshot.set_controller_instance(instance);
  v1::Cluster* cluster = snapshot.add_clusters();
  cluster->set_name("ns/app:80");
  v1::Endpoint* endpoint = cluster->add_endpoints();
  endpoint->set_address("127.0.0.1");
  endpoint->set_port(9000);
  v1::Route* route = snapshot.add_virtual_hosts()->add_routes();
  route->set_name("ns/app/0/0");
  route->mutable_match()->set_path("/");
  route->set_cluster("ns/app:80");
  return snapshot;
}

ConfigClientOptions FastOptions(int port) {
  ConfigClientOptions options;
  options.controller = "127.0.0.1:" + std::to_string(port);
  options.node_id = "node-a";
  options.backoff = {milliseconds(20), milliseconds(200), 0.2};
  return options;
}

template <class Predicate>
bool Eventually(Predicate predicate, milliseconds timeout = milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return predicate();
}

TEST(ConfigClient, AppliesValidSnapshotsRefusesInvalidOnesAndReconnectsWithItsVersion) {
  ConfigMetrics& metrics = ConfigMetrics::Get();
  const double successes = metrics.applies_success.Value();
  const double failures = metrics.applies_failure.Value();

  auto controller = std::make_unique<FakeController>();
  const int port = controller->port();
  ConfigStore store;
  auto client = ConfigClient::Create(FastOptions(port), store);
  ASSERT_TRUE(client.ok()) << client.error();
  (*client)->Start();

  ASSERT_TRUE(controller->WaitForHellos(1));
  const v1::Hello first = controller->hellos()[0];
  EXPECT_EQ(first.node_id(), "node-a");
  EXPECT_FALSE(first.build_version().empty());
  EXPECT_EQ(first.last_applied_version(), 0u);
  EXPECT_EQ(first.last_applied_instance(), "");

  controller->Send(ValidSnapshot(7, "ctl-1"));
  ASSERT_TRUE(controller->WaitForAcks(1));
  EXPECT_EQ(controller->acks()[0].version(), 7u);
  EXPECT_TRUE(controller->acks()[0].accepted());
  ASSERT_NE(store.Current(), nullptr);
  EXPECT_EQ(store.Current()->version(), 7u);
  EXPECT_NE(store.Current()->Match("any.host", "/x"), nullptr);
  EXPECT_EQ(metrics.applies_success.Value(), successes + 1);
  EXPECT_EQ(metrics.version.Value(), 7);

  v1::Snapshot invalid = ValidSnapshot(8, "ctl-1");
  invalid.mutable_virtual_hosts(0)->mutable_routes(0)->set_cluster("ns/missing:80");
  controller->Send(invalid);
  ASSERT_TRUE(controller->WaitForAcks(2));
  const v1::Ack nack = controller->acks()[1];
  EXPECT_EQ(nack.version(), 8u);
  EXPECT_FALSE(nack.accepted());
  EXPECT_THAT(nack.error(), HasSubstr("cluster \"ns/missing:80\" does not exist"));
  EXPECT_EQ(store.Current()->version(), 7u);
  EXPECT_EQ(metrics.applies_failure.Value(), failures + 1);
  EXPECT_EQ(metrics.version.Value(), 7);

  // The controller dies: the last good config keeps serving.
  controller->Shutdown();
  controller.reset();
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(store.Current()->version(), 7u);

  // It comes back on the same address; the client finds it and says what it already has.
  controller = std::make_unique<FakeController>(port);
  ASSERT_TRUE(controller->WaitForHellos(1));
  EXPECT_EQ(controller->hellos()[0].last_applied_version(), 7u);
  EXPECT_EQ(controller->hellos()[0].last_applied_instance(), "ctl-1");

  controller->Send(ValidSnapshot(1, "ctl-2"));
  ASSERT_TRUE(controller->WaitForAcks(1));
  EXPECT_TRUE(Eventually([&] { return store.Current()->controller_instance() == "ctl-2"; }));

  const auto stop_started = std::chrono::steady_clock::now();
  (*client)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(2));
}

// A newer controller's snapshot, with fields this dataplane's schema does not define: a route
// holding one answers 503 (the snapshot is accepted, the other routes are served); one anywhere
// else refuses the snapshot and the last good config stays.
TEST(ConfigClient, ASnapshotFromANewerControllerNeverServesWhatItDoesNotKnow) {
  FakeController controller;
  ConfigStore store;
  auto client = ConfigClient::Create(FastOptions(controller.port()), store);
  ASSERT_TRUE(client.ok()) << client.error();
  (*client)->Start();
  ASSERT_TRUE(controller.WaitForHellos(1));

  v1::Snapshot newer = ValidSnapshot(3, "ctl-new");
  v1::Route* extra = newer.mutable_virtual_hosts(0)->add_routes();
  extra->CopyFrom(newer.virtual_hosts(0).routes(0));
  extra->set_name("ns/app/0/1");
  extra->mutable_match()->set_type(v1::PathMatch::EXACT);
  extra->mutable_match()->set_path("/private");
  extra->GetReflection()->MutableUnknownFields(extra)->AddLengthDelimited(60, std::string("\x08\x01", 2));
  newer.mutable_virtual_hosts(0)->mutable_routes()->SwapElements(0, 1);  // routes match in order
  controller.Send(newer);
  ASSERT_TRUE(controller.WaitForAcks(1));
  EXPECT_TRUE(controller.acks()[0].accepted()) << controller.acks()[0].error();
  ASSERT_TRUE(Eventually([&] { return store.Current() != nullptr && store.Current()->version() == 3; }));
  EXPECT_EQ(store.Current()->Match("any.host", "/private")->unavailable_status, 503u);
  EXPECT_EQ(store.Current()->Match("any.host", "/other")->unavailable_status, 0u);

  v1::Snapshot refused = ValidSnapshot(4, "ctl-new");
  refused.mutable_clusters(0)->GetReflection()->MutableUnknownFields(refused.mutable_clusters(0))->AddVarint(60, 1);
  controller.Send(refused);
  ASSERT_TRUE(controller.WaitForAcks(2));
  EXPECT_FALSE(controller.acks()[1].accepted());
  EXPECT_THAT(controller.acks()[1].error(), HasSubstr("field 60 of pier.v1.Cluster"));
  EXPECT_EQ(store.Current()->version(), 3u);
  (*client)->Stop();
}

TEST(ConfigClient, StopIsPromptWhileTheStreamIsOpenAndIdle) {
  FakeController controller;
  ConfigStore store;
  auto client = ConfigClient::Create(FastOptions(controller.port()), store);
  ASSERT_TRUE(client.ok()) << client.error();
  (*client)->Start();
  ASSERT_TRUE(controller.WaitForHellos(1));
  const auto started = std::chrono::steady_clock::now();
  (*client)->Stop();
  (*client)->Stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(ConfigClient, StopIsPromptWhileNoControllerAnswers) {
  // A port that was free a moment ago: connections are refused, the client is backing off.
  int port = 0;
  { port = FakeController().port(); }
  ConfigStore store;
  ConfigClientOptions options = FastOptions(port);
  options.backoff = {milliseconds(5000), milliseconds(5000), 0.0};
  auto client = ConfigClient::Create(options, store);
  ASSERT_TRUE(client.ok()) << client.error();
  (*client)->Start();
  std::this_thread::sleep_for(milliseconds(200));
  const auto started = std::chrono::steady_clock::now();
  (*client)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(store.Current(), nullptr);
}

TEST(ConfigClient, FindsAControllerThatStartsLater) {
  int port = 0;
  { port = FakeController().port(); }
  ConfigStore store;
  ConfigClientOptions options = FastOptions(port);
  options.backoff = {milliseconds(100), milliseconds(400), 0.0};
  auto client = ConfigClient::Create(options, store);
  ASSERT_TRUE(client.ok()) << client.error();
  (*client)->Start();
  // Delays 100, 200, 400, 400...: the controller that appears after ~1.2 s is found within one
  // more delay, not after gRPC's own (much longer) reconnect backoff.
  std::this_thread::sleep_for(milliseconds(1200));
  FakeController controller(port);
  ASSERT_TRUE(controller.WaitForHellos(1, milliseconds(3000)));
  (*client)->Stop();
}

// Files for the TLS options, removed when the test ends.
class TempFiles {
 public:
  std::string Write(const std::string& name, const std::string& contents) {
    std::string path = ::testing::TempDir() + "pier_config_test_" + name;
    std::ofstream(path) << contents;
    paths_.push_back(path);
    return path;
  }
  ~TempFiles() {
    for (const auto& path : paths_) std::remove(path.c_str());
  }

 private:
  std::vector<std::string> paths_;
};

TEST(ConfigClient, MutualTlsVerifiesBothSides) {
  const auto server_cert = testing::MakeSelfSigned("controller", {"IP:127.0.0.1"});
  const auto client_cert = testing::MakeSelfSigned("dataplane", {"DNS:dataplane"});
  grpc::SslServerCredentialsOptions server_options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  server_options.pem_root_certs = client_cert.chain_pem;
  server_options.pem_key_cert_pairs.push_back({server_cert.key_pem, server_cert.chain_pem});
  FakeController controller(0, grpc::SslServerCredentials(server_options));

  TempFiles files;
  ConfigClientOptions options = FastOptions(controller.port());
  options.tls.cert_file = files.Write("client.crt", client_cert.chain_pem);
  options.tls.key_file = files.Write("client.key", client_cert.key_pem);
  options.tls.ca_file = files.Write("ca.crt", server_cert.chain_pem);
  ConfigStore store;
  auto client = ConfigClient::Create(options, store);
  ASSERT_TRUE(client.ok()) << client.error();
  (*client)->Start();
  ASSERT_TRUE(controller.WaitForHellos(1));
  controller.Send(ValidSnapshot(3, "tls"));
  ASSERT_TRUE(controller.WaitForAcks(1));
  EXPECT_TRUE(controller.acks()[0].accepted());
  (*client)->Stop();

  // The same client trusting another CA never gets through.
  const auto stranger = testing::MakeSelfSigned("stranger", {"IP:127.0.0.1"});
  options.tls.ca_file = files.Write("other-ca.crt", stranger.chain_pem);
  auto untrusting = ConfigClient::Create(options, store);
  ASSERT_TRUE(untrusting.ok()) << untrusting.error();
  (*untrusting)->Start();
  EXPECT_FALSE(controller.WaitForHellos(2, milliseconds(1000)));
  (*untrusting)->Stop();
}

TEST(ConfigClient, UnusableTlsOptionsAreStartupErrors) {
  ConfigStore store;
  ConfigClientOptions options;
  options.tls.cert_file = "/nonexistent/client.crt";
  auto missing_key = ConfigClient::Create(options, store);
  ASSERT_FALSE(missing_key.ok());
  EXPECT_THAT(missing_key.error(), HasSubstr("must be given together"));

  options.tls.key_file = "/nonexistent/client.key";
  auto missing_ca = ConfigClient::Create(options, store);
  ASSERT_FALSE(missing_ca.ok());
  EXPECT_THAT(missing_ca.error(), HasSubstr("--grpc-ca is required"));

  options.tls.ca_file = "/nonexistent/ca.crt";
  auto unreadable = ConfigClient::Create(options, store);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_THAT(unreadable.error(), HasSubstr("/nonexistent/ca.crt cannot be read"));
}

}  // namespace
}  // namespace pier::dataplane
