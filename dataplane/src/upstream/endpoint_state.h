// What the whole process knows about one upstream endpoint, shared by every io_context thread:
// how many requests and tunnels it carries right now (for least_conn) and whether passive
// health has ejected it. Shared rather than per thread because WebSockets are long-lived and
// SO_REUSEPORT spreads clients over threads unevenly: a per-thread count would let each thread
// pile its own tunnels on the endpoint the other threads already loaded. Only atomics are
// touched per request; no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace pier::dataplane::upstream {

struct EndpointState final {
  explicit EndpointState(std::string endpoint_id) : id(std::move(endpoint_id)) {}
  EndpointState(const EndpointState&) = delete;
  EndpointState& operator=(const EndpointState&) = delete;

  const std::string id;  // "address:port", the UpstreamEndpoint id
  // Requests in flight plus open tunnels, counted by EndpointLease.
  std::atomic<int64_t> active{0};
  // steady_clock time (ns since its epoch) until which the endpoint is skipped; 0 = never ejected.
  std::atomic<int64_t> ejected_until_ns{0};
  // Ejections since the last success; sets the length of the next one.
  std::atomic<uint32_t> consecutive_ejections{0};
};

// Counts one request or tunnel on an endpoint for exactly as long as the lease lives. Move-only,
// so whatever the exchange turns into (a response, an error page, a tunnel that later dies of
// any cause) the count goes down exactly once, when the last owner lets go.
class EndpointLease final {
 public:
  EndpointLease() noexcept = default;
  explicit EndpointLease(std::shared_ptr<EndpointState> state) noexcept;
  EndpointLease(EndpointLease&& other) noexcept : state_(std::move(other.state_)) {}
  EndpointLease& operator=(EndpointLease&& other) noexcept;
  EndpointLease(const EndpointLease&) = delete;
  EndpointLease& operator=(const EndpointLease&) = delete;
  ~EndpointLease() { Release(); }

  void Release() noexcept;
  EndpointState* state() const noexcept { return state_.get(); }
  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  std::shared_ptr<EndpointState> state_;
};

}  // namespace pier::dataplane::upstream
