// pier.v1.SnapshotService on the gRPC callback API: no thread per dataplane. Each stream keeps at
// most one snapshot in flight and one pending; a newer snapshot replaces the pending one, so a
// slow dataplane skips intermediate versions and never holds up the event loop or other streams.
// The method is registered raw: snapshots go out as the bytes published (PublishedSnapshot), and
// the small DataplaneMessages are parsed here.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>

#include "pier/v1/snapshot.grpc.pb.h"
#include "server/janitor.h"
#include "server/published_snapshot.h"

namespace pier::server {

class SnapshotService final
    : public pier::v1::SnapshotService::WithRawCallbackMethod_Stream<pier::v1::SnapshotService::Service> {
 public:
  // A stream whose Hello has not arrived this long after it opened is finished with
  // DEADLINE_EXCEEDED: a client that connects and says nothing does not hold a stream forever.
  static constexpr std::chrono::milliseconds kHelloTimeout{10000};

  explicit SnapshotService(std::chrono::milliseconds hello_timeout = kHelloTimeout) : hello_timeout_(hello_timeout) {}
  ~SnapshotService() override;

  // The new current snapshot, queued to every stream. Thread-safe; never blocks on a stream.
  void Publish(SnapshotMessage message);

  // Finishes every open stream with UNAVAILABLE and refuses new ones, so a server shutdown does
  // not wait for dataplanes to hang up (they reconnect to the next controller).
  void CloseAll();

  std::size_t ConnectedStreams() const;

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Stream(
      grpc::CallbackServerContext* context) override;

 private:
  class StreamReactor;
  friend class StreamReactor;

  // Called by a stream once its Hello arrived; returns false when the service is closing.
  bool Register(StreamReactor* stream);
  void Unregister(StreamReactor* stream);

  const std::chrono::milliseconds hello_timeout_;
  mutable std::mutex mutex_;
  SnapshotMessage current_;
  std::set<StreamReactor*> streams_;
  bool closed_ = false;
  Janitor janitor_;  // frees replaced snapshots
};

}  // namespace pier::server
