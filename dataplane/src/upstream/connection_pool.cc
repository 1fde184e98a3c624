#include "upstream/connection_pool.h"

#include <sys/socket.h>

#include <algorithm>

#include "tls/coarse_clock.h"

namespace pier::dataplane::upstream {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kMinSweepInterval{100};

namespace {

void CloseQuietly(UpstreamConnection& connection) noexcept {
  boost::system::error_code ignored;
  connection.stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  connection.stream.socket().close(ignored);
}

// A parked connection is usable when the socket is open and has nothing to read: a pending FIN
// or stray bytes both mean the upstream is done with it, even if the watch has not run yet.
bool LooksAlive(UpstreamConnection& connection) noexcept {
  auto& socket = connection.stream.socket();
  if (!socket.is_open()) return false;
  char probe = 0;
  ssize_t n = ::recv(socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

ConnectionPool::ConnectionPool(asio::io_context& ioc, PoolLimits limits)
    : ioc_(ioc), limits_(limits), sweep_timer_(ioc), watch_timer_(ioc) {}

UpstreamConnectionPtr ConnectionPool::Take(const std::string& endpoint_id, Check check) {
  auto it = idle_.find(endpoint_id);
  if (it == idle_.end()) return nullptr;
  auto& parked = it->second;
  while (!parked.empty()) {
    UpstreamConnectionPtr connection = std::move(parked.back());
    parked.pop_back();
    --idle_total_;
    ++connection->pool_generation;  // a pending watch no longer owns it
    if (connection->watched) {
      connection->watched = false;
      boost::system::error_code ignored;
      connection->stream.socket().cancel(ignored);
    }
    const bool usable = check == Check::kPeek ? LooksAlive(*connection) : connection->stream.socket().is_open();
    // An emptied entry stays for the connection's return (under keep-alive load it comes back
    // at once, and erasing would free and reallocate the entry and its deque each time); the
    // sweep drops entries still empty then.
    if (usable) return connection;
    CloseQuietly(*connection);
  }
  idle_.erase(it);
  return nullptr;
}

void ConnectionPool::Put(UpstreamConnectionPtr connection) {
  if (!connection || !connection->stream.socket().is_open() || connection->buffer.size() != 0) {
    if (connection) CloseQuietly(*connection);
    return;
  }
  auto& parked = idle_[connection->endpoint_id];
  if (parked.size() >= limits_.max_idle_per_endpoint || idle_total_ >= limits_.max_idle_total) {
    CloseQuietly(*connection);
    if (parked.empty()) idle_.erase(connection->endpoint_id);
    return;
  }
  // The stream's own timer must not fire while parked; the sweep enforces the idle timeout.
  connection->stream.expires_never();
  connection->idle_since = CoarseNow();  // only ever compared with the idle timeout
  ++connection->pool_generation;
  parked.push_back(connection);
  ++idle_total_;
  ArmWatchPass();
  ArmSweep();
}

void ConnectionPool::ArmWatchPass() {
  if (watch_armed_) return;
  watch_armed_ = true;
  watch_timer_.expires_after(kWatchDelay);
  watch_timer_.async_wait([this](boost::system::error_code ec) {
    watch_armed_ = false;
    if (ec) return;
    WatchParked();
  });
}

void ConnectionPool::WatchParked() {
  for (auto& [id, parked] : idle_) {
    for (auto& connection : parked) {
      if (!connection->watched) Watch(connection);
    }
  }
}

void ConnectionPool::Watch(const UpstreamConnectionPtr& connection) {
  connection->watched = true;
  uint64_t generation = connection->pool_generation;
  // Waits on the raw socket, not the tcp_stream, so taking the connection can cancel it without
  // leaving the stream's own read state marked pending.
  connection->stream.socket().async_wait(
      asio::ip::tcp::socket::wait_read, [this, connection, generation](boost::system::error_code ec) {
        if (ec == asio::error::operation_aborted || connection->pool_generation != generation) return;
        connection->watched = false;
        // Readable while idle: the upstream closed it or broke protocol. Either way it is gone.
        Remove(connection.get());
        CloseQuietly(*connection);
      });
}

void ConnectionPool::Remove(const UpstreamConnection* connection) {
  auto it = idle_.find(connection->endpoint_id);
  if (it == idle_.end()) return;
  auto& parked = it->second;
  auto found = std::find_if(parked.begin(), parked.end(), [&](const auto& p) { return p.get() == connection; });
  if (found == parked.end()) return;
  parked.erase(found);
  --idle_total_;
  if (parked.empty()) idle_.erase(it);
}

void ConnectionPool::ArmSweep() {
  if (sweep_armed_ || idle_total_ == 0) return;
  sweep_armed_ = true;
  // A quarter of the timeout: a connection outlives its timeout by at most that much, and the
  // sweep costs nothing while the pool is empty.
  auto interval = std::max<std::chrono::milliseconds>(limits_.idle_timeout / 4, kMinSweepInterval);
  sweep_timer_.expires_after(interval);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    sweep_armed_ = false;
    if (ec) return;
    Sweep();
  });
}

void ConnectionPool::Sweep() {
  auto deadline = Clock::now() - limits_.idle_timeout;
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& parked = it->second;
    // Oldest first: parked in order, so expired ones are a prefix.
    while (!parked.empty() && parked.front()->idle_since <= deadline) {
      ++parked.front()->pool_generation;
      CloseQuietly(*parked.front());
      parked.pop_front();
      --idle_total_;
    }
    it = parked.empty() ? idle_.erase(it) : std::next(it);
  }
  ArmSweep();
}

void ConnectionPool::Clear() noexcept {
  for (auto& [id, parked] : idle_) {
    for (auto& connection : parked) {
      ++connection->pool_generation;
      CloseQuietly(*connection);
    }
  }
  idle_.clear();
  idle_total_ = 0;
  sweep_timer_.cancel();
  watch_timer_.cancel();
}

}  // namespace pier::dataplane::upstream
