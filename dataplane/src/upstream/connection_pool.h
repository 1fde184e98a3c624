// Idle keep-alive connections to upstream endpoints, per io_context thread (no locks: only the
// owning thread touches it). A parked connection is watched for readability: an upstream that
// closes it (or, wrongly, sends bytes) gets it dropped from the pool instead of failing the next
// request that would have used it.
//
// The watch starts at the next watch pass (at most kWatchDelay after the connection is parked),
// not at once: under keep-alive load a connection is usually taken again within microseconds,
// and a readiness wait armed and cancelled per request cost an epoll_ctl and a handler run each
// time. A connection closed in the meantime is caught either by Take's own check of the socket
// (a non-blocking peek) or, for a request that can be sent again, by the caller: the first
// read or write fails and the request goes out on a fresh connection (HttpSession's
// RetryOnFreshConnection), which costs one system call less on every reuse.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "tls/io_types.h"
#include "upstream/upstream_connection.h"

namespace pier::dataplane::upstream {

struct PoolLimits {
  std::size_t max_idle_per_endpoint = 32;
  std::size_t max_idle_total = 1024;
  // Shorter than the keep-alive timeout of common servers (nginx 75 s, Go 90 s...) would be
  // ideal but some are at 5 s (Node); the readiness watch covers those closes.
  std::chrono::milliseconds idle_timeout{30000};
};

class ConnectionPool final {
 public:
  // How long a parked connection may go unwatched (see above).
  static constexpr std::chrono::milliseconds kWatchDelay{50};

  ConnectionPool(boost::asio::io_context& ioc, PoolLimits limits);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // kPeek: the socket is checked (a FIN or stray bytes waiting mean closed) and a closed
  // connection is never handed out. kTrustWatch: no check beyond the readiness watch; for a
  // request the caller can replay on a new connection if this one turns out closed.
  enum class Check { kPeek, kTrustWatch };

  // The most recently parked live connection to this endpoint, or null.
  UpstreamConnectionPtr Take(const std::string& endpoint_id, Check check = Check::kPeek);
  // Parks a connection whose last exchange completed cleanly; over the limits it is closed.
  void Put(UpstreamConnectionPtr connection);
  // Closes every idle connection (drain, shutdown).
  void Clear() noexcept;

  std::size_t idle_count() const noexcept { return idle_total_; }

 private:
  void Watch(const UpstreamConnectionPtr& connection);
  void ArmWatchPass();
  void WatchParked();
  void Remove(const UpstreamConnection* connection);
  void ArmSweep();
  void Sweep();

  boost::asio::io_context& ioc_;
  PoolLimits limits_;
  std::unordered_map<std::string, std::deque<UpstreamConnectionPtr>> idle_;  // back = most recent
  std::size_t idle_total_ = 0;
  SteadyTimer sweep_timer_;
  bool sweep_armed_ = false;
  SteadyTimer watch_timer_;
  bool watch_armed_ = false;
};

}  // namespace pier::dataplane::upstream
