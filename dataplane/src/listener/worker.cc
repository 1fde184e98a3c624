#include "listener/worker.h"

#include <vector>

namespace pier::dataplane {

ConnectionGuard::ConnectionGuard(ServerState& server, prometheus::Gauge& active) : server_(&server), active_(&active) {
  server_->connections.fetch_add(1, std::memory_order_relaxed);
  active_->Increment();
}

ConnectionGuard::ConnectionGuard(ServerState& server, prometheus::Gauge& active, AlreadyCounted)
    : server_(&server), active_(&active) {
  active_->Increment();
}

std::optional<ConnectionGuard> ConnectionGuard::TryAcquire(ServerState& server, prometheus::Gauge& active) {
  const std::size_t limit = server.options.max_connections;
  if (limit == 0) return ConnectionGuard(server, active);
  std::size_t current = server.connections.load(std::memory_order_relaxed);
  do {
    if (current >= limit) return std::nullopt;
  } while (!server.connections.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  return ConnectionGuard(server, active, AlreadyCounted{});
}

ConnectionGuard& ConnectionGuard::operator=(ConnectionGuard&& other) noexcept {
  if (this != &other) {
    Release();
    server_ = std::exchange(other.server_, nullptr);
    active_ = std::exchange(other.active_, nullptr);
    lease_ = std::move(other.lease_);
  }
  return *this;
}

ConnectionGuard::~ConnectionGuard() { Release(); }

void ConnectionGuard::Release() noexcept {
  lease_.Release();
  if (server_ == nullptr) return;
  active_->Decrement();
  if (server_->connections.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
      server_->draining.load(std::memory_order_acquire)) {
    std::lock_guard lock(server_->mutex);
    server_->connections_gone.notify_all();
  }
  server_ = nullptr;
}

Worker::Worker(ServerState& server) : server_(server), pool_(ioc_, upstream::PoolLimits{}) {}

void Worker::StartHousekeeping() {
  housekeeping_timer_.expires_after(kHousekeepingInterval);
  housekeeping_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    metrics_.Prune();
    for (auto* connection : connections_) connection->Housekeep();
    StartHousekeeping();
  });
}

void Worker::DrainConnections() noexcept {
  pool_.Clear();
  auth_connections_.Clear();
  // Draining may end a connection synchronously in a later version (a tunnel that is already
  // at a frame boundary); iterate over a copy so it can unregister itself meanwhile.
  std::vector<Drainable*> snapshot(connections_.begin(), connections_.end());
  for (auto* connection : snapshot) {
    if (connections_.count(connection) != 0) connection->Drain();
  }
}

}  // namespace pier::dataplane
