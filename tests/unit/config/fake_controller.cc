#include "fake_controller.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <stdexcept>
#include <string>

namespace pier::dataplane::testing {

FakeController::FakeController(int port, std::shared_ptr<grpc::ServerCredentials> credentials) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                           credentials ? credentials : grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) throw std::runtime_error("fake controller cannot listen on port " + std::to_string(port));
}

FakeController::~FakeController() { Shutdown(); }

void FakeController::Shutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  changed_.notify_all();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  server_.reset();
}

void FakeController::Send(const v1::Snapshot& snapshot) {
  {
    std::lock_guard lock(mutex_);
    outbox_.push_back(snapshot);
  }
  changed_.notify_all();
}

grpc::Status FakeController::Stream(grpc::ServerContext* context,
                                    grpc::ServerReaderWriter<v1::ControllerMessage, v1::DataplaneMessage>* stream) {
  v1::DataplaneMessage in;
  if (!stream->Read(&in) || !in.has_hello()) return grpc::Status(grpc::INVALID_ARGUMENT, "expected Hello");
  {
    std::lock_guard lock(mutex_);
    hellos_.push_back(in.hello());
  }
  changed_.notify_all();
  while (true) {
    v1::Snapshot next;
    {
      std::unique_lock lock(mutex_);
      // Polls for cancellation: a client that goes away does not notify this condition variable.
      while (outbox_.empty() && !shutting_down_ && !context->IsCancelled()) {
        changed_.wait_for(lock, std::chrono::milliseconds(20));
      }
      if (shutting_down_ || context->IsCancelled()) return grpc::Status(grpc::UNAVAILABLE, "controller going away");
      next = std::move(outbox_.front());
      outbox_.pop_front();
    }
    v1::ControllerMessage out;
    *out.mutable_snapshot() = next;
    if (!stream->Write(out) || !stream->Read(&in)) return grpc::Status::OK;
    {
      std::lock_guard lock(mutex_);
      acks_.push_back(in.ack());
    }
    changed_.notify_all();
  }
}

bool FakeController::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, done);
}

bool FakeController::WaitForHellos(std::size_t count, std::chrono::milliseconds timeout) {
  return WaitFor([&] { return hellos_.size() >= count; }, timeout);
}

bool FakeController::WaitForAcks(std::size_t count, std::chrono::milliseconds timeout) {
  return WaitFor([&] { return acks_.size() >= count; }, timeout);
}

std::vector<v1::Hello> FakeController::hellos() {
  std::lock_guard lock(mutex_);
  return hellos_;
}

std::vector<v1::Ack> FakeController::acks() {
  std::lock_guard lock(mutex_);
  return acks_;
}

}  // namespace pier::dataplane::testing
