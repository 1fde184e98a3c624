#include "server/snapshot_service.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/sync_stream.h>
#include <gtest/gtest.h>

#include <future>
#include <optional>
#include <thread>

#include "server/controller_metrics.h"
#include "server/grpc_server.h"

namespace pier::server {
namespace {

using namespace std::chrono_literals;
using pier::v1::ControllerMessage;
using pier::v1::DataplaneMessage;

SnapshotMessage Snapshot(uint64_t version, const std::string& host, const std::string& instance = "inst") {
  pier::v1::Snapshot snapshot;
  snapshot.set_version(version);
  snapshot.set_controller_instance(instance);
  snapshot.add_virtual_hosts()->set_host(host);
  return PublishedSnapshot::Of(snapshot);
}

// A dataplane stand-in on the synchronous client API.
class Client {
 public:
  static grpc::ChannelArguments UnlimitedReceive() {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    return args;
  }

  explicit Client(int port)
      : channel_(grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(),
                                           UnlimitedReceive())),
        stub_(pier::v1::SnapshotService::NewStub(channel_)) {
    context_.set_deadline(std::chrono::system_clock::now() + 20s);
    stream_ = stub_->Stream(&context_);
  }

  bool SendHello(uint64_t version = 0, const std::string& instance = "") {
    DataplaneMessage message;
    message.mutable_hello()->set_node_id("test-node");
    message.mutable_hello()->set_last_applied_version(version);
    message.mutable_hello()->set_last_applied_instance(instance);
    return stream_->Write(message);
  }

  bool SendAck(uint64_t version, bool accepted, const std::string& error = "") {
    DataplaneMessage message;
    message.mutable_ack()->set_version(version);
    message.mutable_ack()->set_accepted(accepted);
    message.mutable_ack()->set_error(error);
    return stream_->Write(message);
  }

  // Reads in the background so a test can assert that nothing arrives for a while.
  std::future<std::optional<ControllerMessage>> ReadAsync() {
    return std::async(std::launch::async, [this]() -> std::optional<ControllerMessage> {
      ControllerMessage message;
      if (!stream_->Read(&message)) return std::nullopt;
      return message;
    });
  }

  // The server ended the stream: the next read fails within 5 s. Its status, or nullopt when
  // the stream is still open (or a message came instead).
  std::optional<grpc::Status> EndedByServer() {
    auto read = ReadAsync();
    if (read.wait_for(5s) != std::future_status::ready || read.get()) return std::nullopt;
    return Finish();
  }

  grpc::Status Finish() {
    stream_->WritesDone();
    return stream_->Finish();
  }

  void Cancel() { context_.TryCancel(); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pier::v1::SnapshotService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<DataplaneMessage, ControllerMessage>> stream_;
};

class SnapshotServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GrpcServer::Start({.listen = "127.0.0.1:0"}, service_);
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
  }
  void TearDown() override { server_->Shutdown(1s); }

  bool WaitForStreams(std::size_t n) {
    for (int i = 0; i < 200; ++i) {
      if (service_.ConnectedStreams() == n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  SnapshotService service_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(SnapshotServiceTest, StreamWithoutHelloIsRejected) {
  Client client(server_->port());
  client.SendAck(1, true);
  auto status = client.EndedByServer();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status->error_message().find("Hello"), std::string::npos);
}

// A client that opens the stream and says nothing is cut off at the Hello deadline; one that
// said Hello in time is not, however long it stays.
TEST(SnapshotServiceHelloDeadline, SilentStreamIsFinishedAndAHelloInTimeIsKept) {
  SnapshotService service(300ms);
  auto server = GrpcServer::Start({.listen = "127.0.0.1:0"}, service);
  ASSERT_TRUE(server) << server.error();

  Client silent((*server)->port());
  Client talker((*server)->port());
  ASSERT_TRUE(talker.SendHello());
  auto status = silent.EndedByServer();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_NE(status->error_message().find("no Hello"), std::string::npos);

  std::this_thread::sleep_for(500ms);  // well past the deadline
  EXPECT_EQ(service.ConnectedStreams(), 1u);
  service.Publish(Snapshot(7, "late.example"));
  auto read = talker.ReadAsync();
  ASSERT_EQ(read.wait_for(5s), std::future_status::ready);
  auto message = read.get();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->snapshot().version(), 7u);
  talker.Cancel();
  (*server)->Shutdown(1s);
}

// The service parses what dataplanes send itself (the method is raw): bytes that are no
// DataplaneMessage end the stream with INVALID_ARGUMENT.
TEST_F(SnapshotServiceTest, UnparseableMessageIsRejected) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
  static const std::string method_name = std::string("/") + pier::v1::SnapshotService::service_full_name() + "/Stream";
  const grpc::internal::RpcMethod method(method_name.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING, channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 20s);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(channel.get(), method,
                                                                                            &context));
  const std::string garbage("\x0a\x7f", 2);  // a length running past the end
  grpc::Slice slice(garbage);
  grpc::ByteBuffer buffer(&slice, 1);
  ASSERT_TRUE(stream->Write(buffer));
  grpc::ByteBuffer reply;
  EXPECT_FALSE(stream->Read(&reply));
  stream->WritesDone();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(service_.ConnectedStreams(), 0u);
}

TEST_F(SnapshotServiceTest, HelloGetsTheCurrentSnapshotThenEveryNewOne) {
  service_.Publish(Snapshot(1, "a.example"));
  Client client(server_->port());
  ASSERT_TRUE(client.SendHello());
  auto first = client.ReadAsync().get();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->snapshot().version(), 1u);
  EXPECT_EQ(first->snapshot().virtual_hosts(0).host(), "a.example");
  service_.Publish(Snapshot(2, "b.example"));
  auto second = client.ReadAsync().get();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->snapshot().version(), 2u);
}

TEST_F(SnapshotServiceTest, NoSnapshotYetMeansWaiting) {
  Client client(server_->port());
  ASSERT_TRUE(client.SendHello());
  auto read = client.ReadAsync();
  EXPECT_EQ(read.wait_for(300ms), std::future_status::timeout);
  service_.Publish(Snapshot(1, "a.example"));
  ASSERT_EQ(read.wait_for(5s), std::future_status::ready);
  auto message = read.get();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->snapshot().version(), 1u);
}

TEST_F(SnapshotServiceTest, HelloWithCurrentVersionGetsNothingUntilTheNextChange) {
  service_.Publish(Snapshot(5, "a.example", "inst"));
  Client client(server_->port());
  ASSERT_TRUE(client.SendHello(5, "inst"));
  auto read = client.ReadAsync();
  EXPECT_EQ(read.wait_for(300ms), std::future_status::timeout);
  service_.Publish(Snapshot(6, "b.example", "inst"));
  ASSERT_EQ(read.wait_for(5s), std::future_status::ready);
  auto message = read.get();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->snapshot().version(), 6u);
}

TEST_F(SnapshotServiceTest, HelloWithSameVersionFromAnotherInstanceGetsTheSnapshot) {
  service_.Publish(Snapshot(5, "a.example", "new-process"));
  Client client(server_->port());
  ASSERT_TRUE(client.SendHello(5, "old-process"));
  auto read = client.ReadAsync();
  ASSERT_EQ(read.wait_for(5s), std::future_status::ready);
  auto message = read.get();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->snapshot().controller_instance(), "new-process");
}

TEST_F(SnapshotServiceTest, AcksAndNacksAreCounted) {
  auto& metrics = ControllerMetrics::Get();
  const double acks = metrics.acks.Value();
  const double nacks = metrics.nacks.Value();
  service_.Publish(Snapshot(1, "a.example"));
  Client client(server_->port());
  ASSERT_TRUE(client.SendHello());
  ASSERT_TRUE(client.ReadAsync().get());
  ASSERT_TRUE(client.SendAck(1, true));
  ASSERT_TRUE(client.SendAck(1, false, "certificate web/tls does not match its key"));
  EXPECT_TRUE(client.Finish().ok());
  for (int i = 0; i < 100 && metrics.nacks.Value() < nacks + 1; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(metrics.acks.Value(), acks + 1);
  EXPECT_EQ(metrics.nacks.Value(), nacks + 1);
}

TEST_F(SnapshotServiceTest, ConnectedGaugeFollowsStreams) {
  auto& gauge = ControllerMetrics::Get().dataplanes_connected;
  const double before = gauge.Value();
  {
    Client client(server_->port());
    ASSERT_TRUE(client.SendHello());
    ASSERT_TRUE(WaitForStreams(1));
    EXPECT_EQ(gauge.Value(), before + 1);
    client.Cancel();
    ASSERT_TRUE(WaitForStreams(0));
  }
  for (int i = 0; i < 100 && gauge.Value() != before; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(gauge.Value(), before);
}

TEST_F(SnapshotServiceTest, SlowDataplaneSkipsToTheLatestSnapshot) {
  Client slow(server_->port());
  ASSERT_TRUE(slow.SendHello());
  ASSERT_TRUE(WaitForStreams(1));
  // Large snapshots so transport buffers fill and most of them must be skipped.
  const std::string big(1 << 20, 'x');
  constexpr uint64_t kLast = 40;
  for (uint64_t v = 1; v <= kLast; ++v) service_.Publish(Snapshot(v, big + std::to_string(v)));
  uint64_t received = 0;
  uint64_t last = 0;
  while (last < kLast) {
    auto message = slow.ReadAsync().get();
    ASSERT_TRUE(message);
    ASSERT_GT(message->snapshot().version(), last);  // strictly increasing, never stale
    last = message->snapshot().version();
    ++received;
  }
  EXPECT_EQ(last, kLast);
  EXPECT_LT(received, kLast);
}

TEST_F(SnapshotServiceTest, CloseAllEndsStreamsWithUnavailable) {
  Client client(server_->port());
  ASSERT_TRUE(client.SendHello());
  ASSERT_TRUE(WaitForStreams(1));
  auto read = client.ReadAsync();
  const auto start = std::chrono::steady_clock::now();
  server_->Shutdown(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ASSERT_EQ(read.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(read.get());
  EXPECT_EQ(client.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SnapshotServiceTest, LargeSnapshotFits) {
  // Far beyond gRPC's 4 MiB default.
  service_.Publish(Snapshot(1, std::string(64 << 20, 'h')));
  Client client(server_->port());
  ASSERT_TRUE(client.SendHello());
  auto message = client.ReadAsync().get();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->snapshot().virtual_hosts(0).host().size(), 64u << 20);
}

}  // namespace
}  // namespace pier::server
