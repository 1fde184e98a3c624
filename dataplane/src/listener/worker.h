// What one io_context thread owns (Worker) and what every thread shares (ServerState). Objects
// on a worker are only touched from its thread, so nothing here takes a lock on the hot path.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>

#include "http/proxy_metrics.h"
#include "limits/admission.h"
#include "limits/connection_limiter.h"
#include "listener/proxy_server.h"
#include "pier/common/cidr.h"
#include "routing/config.h"
#include "tls/io_types.h"
#include "tls/server_tls.h"
#include "upstream/balancer.h"
#include "auth/keepalive_pool.h"
#include "upstream/connection_pool.h"

namespace pier::dataplane {

// Everything read by all threads. Written only before Start() and through the atomics.
struct ServerState {
  ServerState(const ConfigStore& config_store, ProxyOptions proxy_options, CidrSet trusted)
      : config(config_store), options(std::move(proxy_options)), trusted_proxies(std::move(trusted)) {}

  const ConfigStore& config;
  const ProxyOptions options;
  const CidrSet trusted_proxies;
  // Upstream endpoints' load and health, shared by every thread's balancers.
  upstream::EndpointRegistry endpoints;

  // Access rules and limits of every route, shared by all threads (sharded inside).
  limits::AdmissionControl admission;

  // The HTTPS listener's TLS, and the port redirects to https:// name; null / 0 when it is disabled.
  std::unique_ptr<tls::ServerTls> tls;
  uint16_t https_port = 0;

  std::atomic<bool> draining{false};
  std::atomic<std::size_t> connections{0};
  // Wait() sleeps on this; it is notified when the last connection goes during a drain.
  std::mutex mutex;
  std::condition_variable connections_gone;
};

// Counts one client connection from accept to close; moves with the socket from the HTTP
// session to a tunnel, so a connection is counted once whatever it turns into.
class ConnectionGuard final {
 public:
  ConnectionGuard() = default;
  // active: the listener's pier_connections_active child.
  ConnectionGuard(ServerState& server, prometheus::Gauge& active);
  // Counts the connection only if that keeps it within --max-connections (0 = no limit):
  // check and count are one atomic step, so threads accepting at once cannot overshoot.
  static std::optional<ConnectionGuard> TryAcquire(ServerState& server, prometheus::Gauge& active);
  ConnectionGuard(ConnectionGuard&& other) noexcept
      : server_(std::exchange(other.server_, nullptr)),
        active_(std::exchange(other.active_, nullptr)),
        lease_(std::move(other.lease_)) {}
  ConnectionGuard& operator=(ConnectionGuard&& other) noexcept;
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;
  ~ConnectionGuard();

  // A WebSocket stays counted by its route's connection limits for the tunnel's whole life:
  // the session hands the upgrade request's lease over, and it travels with the sockets.
  void HoldLease(limits::ConnectionLease lease) noexcept { lease_ = std::move(lease); }

 private:
  struct AlreadyCounted {};
  ConnectionGuard(ServerState& server, prometheus::Gauge& active, AlreadyCounted);
  void Release() noexcept;
  ServerState* server_ = nullptr;
  prometheus::Gauge* active_ = nullptr;
  limits::ConnectionLease lease_;
};

// The links of a worker's list of connections (intrusive and circular: registering a
// connection allocates nothing, and unlinking one needs only its neighbours).
struct DrainableLinks {
  DrainableLinks* prev = nullptr;
  DrainableLinks* next = nullptr;
};

// A connection that Drain() must reach: HTTP sessions and tunnels register for their lifetime.
class Drainable : private DrainableLinks {
 public:
  virtual void Drain() noexcept = 0;
  // Every Worker::kHousekeepingInterval, on the worker's thread; must not end the connection
  // (the worker is iterating over its connections).
  virtual void Housekeep() noexcept {}

 protected:
  Drainable() = default;
  Drainable(const Drainable&) = delete;
  Drainable& operator=(const Drainable&) = delete;
  ~Drainable() = default;

 private:
  friend class Worker;
};

class Worker final {
 public:
  static constexpr std::chrono::seconds kHousekeepingInterval{10};

  explicit Worker(ServerState& server);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  boost::asio::io_context& ioc() noexcept { return ioc_; }
  ServerState& server() noexcept { return server_; }
  upstream::ConnectionPool& pool() noexcept { return pool_; }
  external_auth::KeepalivePool& auth_connections() noexcept { return auth_connections_; }
  upstream::BalancerSet& balancers() noexcept { return balancers_; }
  http::RouteMetricsCache& metrics() noexcept { return metrics_; }

  // On this worker's thread, from Start: every kHousekeepingInterval, drops the metric
  // children of routes no config or connection holds any more (RouteMetricsCache), so the
  // series of a deleted route go even when this thread serves no request after the change or
  // the route's last tunnel ends later, and lets every registered connection Housekeep.
  void StartHousekeeping();

  // Register once; Unregister is a no-op for a connection that is not registered (any more).
  void Register(Drainable* connection) noexcept { Link(connections_, connection); }
  void Unregister(Drainable* connection) noexcept { Unlink(connection); }
  // On this worker's thread: drop idle upstream connections and tell every connection to drain.
  void DrainConnections() noexcept;

 private:
  // Declared before the io_context: sessions and tunnels still pending when it is destroyed
  // unregister and update metrics from their destructors.
  static void Link(DrainableLinks& list, DrainableLinks* node) noexcept;
  static void Unlink(DrainableLinks* node) noexcept;

  ServerState& server_;
  DrainableLinks connections_;  // the list's own node: empty when it links to itself
  http::RouteMetricsCache metrics_;
  // One thread runs it, and every socket and timer on it is only touched from that thread
  // (other threads post), so the reactor needs no per-socket lock around each read and write.
  // The scheduler keeps its lock for those posts, and registration keeps its own for sockets
  // opened before the thread starts.
  boost::asio::io_context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  SteadyTimer housekeeping_timer_{ioc_.get_executor()};
  upstream::ConnectionPool pool_;
  external_auth::KeepalivePool auth_connections_;  // auth-keepalive
  upstream::BalancerSet balancers_{server_.endpoints};
};

}  // namespace pier::dataplane
