#include "auth/keepalive_pool.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace pier::dataplane::external_auth {

namespace asio = boost::asio;

namespace {

// Open, and nothing to read: a waiting FIN or stray bytes both mean the service is done with it.
bool LooksAlive(AuthConnection& connection) noexcept {
  auto& socket = connection.stream.next_layer();
  if (!socket.is_open()) return false;
  char probe = 0;
  const ssize_t n = ::recv(socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

void KeepalivePool::Close(AuthConnection& connection) noexcept {
  boost::system::error_code ignored;
  connection.idle_timer.cancel();
  connection.stream.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  connection.stream.next_layer().close(ignored);
}

AuthConnectionPtr KeepalivePool::Take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& parked = it->second;
  AuthConnectionPtr found;
  while (!parked.empty() && !found) {
    AuthConnectionPtr connection = std::move(parked.back());
    parked.pop_back();
    ++connection->generation;  // the pending watch and timer no longer own it
    boost::system::error_code ignored;
    connection->stream.next_layer().cancel(ignored);
    connection->idle_timer.cancel();
    if (LooksAlive(*connection)) {
      found = std::move(connection);
    } else {
      Close(*connection);
    }
  }
  if (parked.empty()) idle_.erase(it);
  return found;
}

void KeepalivePool::Put(const std::string& key, AuthConnectionPtr connection, std::size_t max_idle,
                        std::chrono::milliseconds idle_timeout) {
  if (!connection) return;
  if (!connection->stream.next_layer().is_open() || connection->buffer.size() != 0 || max_idle == 0) {
    Close(*connection);
    return;
  }
  auto& parked = idle_[key];
  if (parked.size() >= max_idle) {
    Close(*connection);
    return;
  }
  connection->key = key;
  const uint64_t generation = ++connection->generation;
  parked.push_back(connection);
  // Readable while idle: the service closed it (or broke protocol); either way it is gone.
  connection->stream.next_layer().async_wait(
      asio::ip::tcp::socket::wait_read, [this, connection, generation](boost::system::error_code ec) {
        if (ec == asio::error::operation_aborted) return;
        Drop(connection, generation);
      });
  connection->idle_timer.expires_after(idle_timeout);
  connection->idle_timer.async_wait([this, connection, generation](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    Drop(connection, generation);
  });
}

void KeepalivePool::Drop(const AuthConnectionPtr& connection, uint64_t generation) noexcept {
  if (connection->generation != generation) return;  // taken (or dropped) since
  ++connection->generation;
  auto it = idle_.find(connection->key);
  if (it != idle_.end()) {
    auto& parked = it->second;
    auto at = std::find(parked.begin(), parked.end(), connection);
    if (at != parked.end()) parked.erase(at);
    if (parked.empty()) idle_.erase(it);
  }
  boost::system::error_code ignored;
  connection->stream.next_layer().cancel(ignored);
  Close(*connection);
}

void KeepalivePool::Clear() noexcept {
  for (auto& [key, parked] : idle_) {
    for (auto& connection : parked) {
      ++connection->generation;
      Close(*connection);
    }
  }
  idle_.clear();
}

std::size_t KeepalivePool::idle_count(const std::string& key) const {
  auto it = idle_.find(key);
  return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace pier::dataplane::external_auth
