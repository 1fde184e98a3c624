#include "server/snapshot_service.h"

#include <grpcpp/alarm.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "server/controller_metrics.h"
#include "server/hello.h"

namespace pier::server {

using pier::v1::DataplaneMessage;

// Lifetime: created per RPC by gRPC; deleted when both OnDone (every operation finished) and
// the Hello deadline's alarm callback (which always runs once: fired, or cancelled by OnDone)
// have let go of it.
// Locking: the service mutex may be held while taking a stream's mutex, never the reverse.
// StartWrite and Finish are called under the stream's mutex so no write can start after Finish;
// that is safe because gRPC never runs a bidi reactor's reactions (OnWriteDone, OnDone) inline
// from the call that started them.
class SnapshotService::StreamReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamReactor(SnapshotService& service, grpc::CallbackServerContext* context)
      : service_(service), peer_(context->peer()) {
    hello_alarm_.Set(std::chrono::system_clock::now() + service_.hello_timeout_,
                     [this](bool fired) { OnHelloDeadline(fired); });
    StartRead(&raw_incoming_);
  }

  // From the service (under its mutex): send `message` now, or after the write in flight.
  void Offer(SnapshotMessage message) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    if (in_flight_) {
      pending_ = std::move(message);  // replaces an older pending one: it is obsolete
      return;
    }
    Write(std::move(message));
  }

  void Close(const grpc::Status& status) { FinishOnce(status); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The dataplane half-closed or went away.
      FinishOnce(grpc::Status::OK);
      return;
    }
    DataplaneMessage incoming;
    if (!grpc::SerializationTraits<DataplaneMessage>::Deserialize(&raw_incoming_, &incoming).ok()) {
      spdlog::warn("dataplane stream from {}: unparseable message", peer_);
      FinishOnce(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unparseable DataplaneMessage"));
      return;
    }
    if (!hello_) {
      auto hello = ExpectHello(incoming);
      if (!hello) {
        spdlog::warn("dataplane stream from {} rejected: {}", peer_, hello.error());
        FinishOnce(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, hello.error()));
        return;
      }
      hello_ = std::move(*hello);
      hello_seen_.store(true);
      spdlog::info("dataplane {} connected from {} (build {}, last applied version {} of {})", NodeName(*hello_),
                   peer_, hello_->build_version(), hello_->last_applied_version(),
                   hello_->last_applied_instance().empty() ? "-" : hello_->last_applied_instance());
      if (!service_.Register(this)) {
        FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller shutting down"));
        return;
      }
      counted_ = true;
      ControllerMetrics::Get().dataplanes_connected.Increment();
    } else if (incoming.has_ack()) {
      HandleAck(incoming.ack());
    } else if (incoming.has_hello()) {
      FinishOnce(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "Hello sent twice"));
      return;
    }
    // Other (future) message kinds are ignored so newer dataplanes can talk to this controller.
    std::lock_guard lock(mutex_);
    if (!finished_) StartRead(&raw_incoming_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    in_flight_.reset();
    if (!ok || finished_ || !pending_) return;  // on !ok the stream is broken; the failed read finishes it
    Write(std::move(pending_));
  }

  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }

  void OnDone() override {
    service_.Unregister(this);
    if (counted_) {
      ControllerMetrics::Get().dataplanes_connected.Decrement();
      spdlog::info("dataplane {} ({}) disconnected", NodeName(*hello_), peer_);
    }
    hello_alarm_.Cancel();  // runs the callback now if it has not run yet
    Release();
  }

  const pier::v1::Hello& hello() const { return *hello_; }

 private:
  void HandleAck(const pier::v1::Ack& ack) {
    auto& metrics = ControllerMetrics::Get();
    if (ack.accepted()) {
      metrics.acks.Increment();
      spdlog::debug("dataplane {} applied version {}", NodeName(*hello_), ack.version());
    } else {
      metrics.nacks.Increment();
      spdlog::warn("dataplane {} rejected snapshot version {}: {}", NodeName(*hello_), ack.version(), ack.error());
    }
  }

  void OnHelloDeadline(bool fired) {
    if (fired && !hello_seen_.load()) {
      spdlog::warn("dataplane stream from {} rejected: no Hello within {} ms", peer_, service_.hello_timeout_.count());
      FinishOnce(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                              "no Hello within " + std::to_string(service_.hello_timeout_.count()) + " ms"));
    }
    Release();
  }

  // OnDone and the alarm callback each hold one reference.
  void Release() {
    if (references_.fetch_sub(1) == 1) delete this;
  }

  // Under mutex_, with no write in flight.
  void Write(SnapshotMessage message) {
    in_flight_ = std::move(message);
    wire_ = in_flight_->Wire();
    StartWrite(&wire_);
  }

  void FinishOnce(const grpc::Status& status) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    pending_.reset();
    Finish(status);
  }

  SnapshotService& service_;
  const std::string peer_;
  grpc::ByteBuffer raw_incoming_;  // read side: touched only by the reactions of reads
  std::optional<pier::v1::Hello> hello_;
  bool counted_ = false;
  std::atomic<bool> hello_seen_{false};  // read by the alarm callback on another thread
  grpc::Alarm hello_alarm_;
  std::atomic<int> references_{2};

  std::mutex mutex_;
  bool finished_ = false;
  SnapshotMessage in_flight_;
  grpc::ByteBuffer wire_;  // in_flight_'s bytes, kept alive until OnWriteDone as gRPC requires
  SnapshotMessage pending_;
};

SnapshotService::~SnapshotService() = default;

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* SnapshotService::Stream(
    grpc::CallbackServerContext* context) {
  return new StreamReactor(*this, context);
}

void SnapshotService::Publish(SnapshotMessage message) {
  // The previous one goes on the janitor's low-priority thread, after the new one is on its way.
  SnapshotMessage previous;
  {
    std::lock_guard lock(mutex_);
    previous = std::exchange(current_, message);
    for (StreamReactor* stream : streams_) stream->Offer(message);
  }
  janitor_.Dispose(std::move(previous));
}

bool SnapshotService::Register(StreamReactor* stream) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  streams_.insert(stream);
  if (current_ && NeedsInitialSnapshot(stream->hello(), current_->version(), current_->controller_instance())) {
    stream->Offer(current_);
  } else if (current_) {
    spdlog::info("dataplane {} already has version {}; waiting for the next change", NodeName(stream->hello()),
                 current_->version());
  }
  return true;
}

void SnapshotService::Unregister(StreamReactor* stream) {
  std::lock_guard lock(mutex_);
  streams_.erase(stream);
}

void SnapshotService::CloseAll() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (StreamReactor* stream : streams_) {
    stream->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller shutting down"));
  }
}

std::size_t SnapshotService::ConnectedStreams() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

}  // namespace pier::server
