// The dataplane's side of pier.v1.SnapshotService.Stream: dials the controller, says Hello,
// validates and applies every snapshot it is sent (ConfigStore::Swap) and answers each with an
// Ack. An invalid snapshot is NACKed and the last good config keeps serving; so does a lost
// controller, while the client reconnects with backoff. Runs on its own thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "config/backoff.h"
#include "config/channel.h"
#include "pier/common/result.h"
#include "pier/v1/snapshot.grpc.pb.h"
#include "routing/config.h"

namespace grpc {
class ClientContext;
}

namespace pier::dataplane {

struct ConfigClientOptions {
  std::string controller = "127.0.0.1:18000";  // gRPC target
  ChannelTls tls;
  std::string node_id;
  BuildOptions build;
  BackoffOptions backoff;
  // Called on the client's thread after each snapshot is applied (the store already holds it).
  std::function<void(const Config&)> applied;
};

class ConfigClient final {
 public:
  // Fails only on unusable options (TLS files missing or unreadable); the controller being
  // away is not an error.
  static Result<std::unique_ptr<ConfigClient>> Create(ConfigClientOptions options, ConfigStore& store);
  ~ConfigClient();
  ConfigClient(const ConfigClient&) = delete;
  ConfigClient& operator=(const ConfigClient&) = delete;

  void Start();
  // Cancels the stream in flight and joins the thread; returns promptly whatever the controller
  // does. Idempotent.
  void Stop() noexcept;

 private:
  ConfigClient(ConfigClientOptions options, std::shared_ptr<grpc::ChannelCredentials> credentials, ConfigStore& store);

  struct StreamOutcome {
    bool healthy = false;  // lasted long enough that the next attempt starts a new backoff
    std::string why;       // why it ended, for the log
  };

  void Run();
  StreamOutcome RunStream();
  // `snapshot`: a pier.v1.Snapshot's bytes.
  v1::Ack Apply(std::string_view snapshot);
  v1::Hello MakeHello() const;

  const ConfigClientOptions options_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  ConfigStore& store_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                         // guarded by mutex_
  grpc::ClientContext* active_call_ = nullptr;   // guarded by mutex_
  std::thread thread_;
};

}  // namespace pier::dataplane
