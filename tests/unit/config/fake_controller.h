// The controller side of SnapshotService, in process and over real gRPC on loopback: it records
// every Hello and Ack and sends the snapshots a test queues.
#pragma once

#include <grpcpp/server.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "pier/v1/snapshot.grpc.pb.h"

namespace pier::dataplane::testing {

class FakeController final : public v1::SnapshotService::Service {
 public:
  // port 0: pick a free one. Credentials default to plaintext.
  explicit FakeController(int port = 0, std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);
  ~FakeController() override;

  int port() const { return port_; }
  // Ends every stream and stops listening: the controller "dies".
  void Shutdown();

  void Send(const v1::Snapshot& snapshot);

  // Wait until the recorded lists reach `count` entries (false on timeout).
  bool WaitForHellos(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool WaitForAcks(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::vector<v1::Hello> hellos();
  std::vector<v1::Ack> acks();

  grpc::Status Stream(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::ControllerMessage, v1::DataplaneMessage>* stream) override;

 private:
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<v1::Snapshot> outbox_;
  std::vector<v1::Hello> hellos_;
  std::vector<v1::Ack> acks_;
  bool shutting_down_ = false;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace pier::dataplane::testing
