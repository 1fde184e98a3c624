#include "listener/worker.h"

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

Worker::Worker(ServerState& server) : server_(server), pool_(ioc_, upstream::PoolLimits{}) {
  connections_.prev = connections_.next = &connections_;
}

void Worker::StartHousekeeping() {
  housekeeping_timer_.expires_after(kHousekeepingInterval);
  housekeeping_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    metrics_.Prune();
    for (DrainableLinks* node = connections_.next; node != &connections_; node = node->next) {
      static_cast<Drainable*>(node)->Housekeep();
    }
    StartHousekeeping();
  });
}

void Worker::DrainConnections() noexcept {
  pool_.Clear();
  auth_connections_.Clear();
  // Draining may end connections synchronously (a tunnel that is already at a frame boundary,
  // and with it whatever it owned), so the ones still to drain move to a list of their own and
  // go back one by one before their Drain(): a connection that ends meanwhile unlinks itself
  // from whichever list it is in, and none is drained twice or after it ended.
  DrainableLinks pending;
  if (connections_.next == &connections_) return;
  pending.next = connections_.next;
  pending.prev = connections_.prev;
  pending.next->prev = &pending;
  pending.prev->next = &pending;
  connections_.next = connections_.prev = &connections_;
  while (pending.next != &pending) {
    DrainableLinks* node = pending.next;
    Unlink(node);
    Link(connections_, node);
    static_cast<Drainable*>(node)->Drain();
  }
}

void Worker::Link(DrainableLinks& list, DrainableLinks* node) noexcept {
  node->prev = &list;
  node->next = list.next;
  list.next->prev = node;
  list.next = node;
}

void Worker::Unlink(DrainableLinks* node) noexcept {
  if (node->next == nullptr) return;
  node->prev->next = node->next;
  node->next->prev = node->prev;
  node->prev = node->next = nullptr;
}

}  // namespace pier::dataplane
