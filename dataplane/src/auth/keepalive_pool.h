// Idle keep-alive connections to auth services (auth-keepalive), one pool per dataplane worker
// thread: only that thread touches it, so it takes no lock. A check that finds an idle
// connection to its service (same scheme, host and port) sends on it instead of connecting;
// one that ends cleanly on a connection the service keeps open parks it here again.
//
// A parked connection is watched: the service closing it (or sending anything) drops it, and so
// does its idle timeout (auth-keepalive-timeout). Take also peeks at the socket, so a close that
// arrived after the last watch ran is caught before the connection is handed out; one that is
// still on its way is the checker's to handle (it sends the check again on a new connection).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

namespace pier::dataplane::external_auth {

struct AuthConnection {
  AuthConnection(const boost::asio::any_io_executor& executor, boost::asio::ssl::context& context)
      : stream(executor, context), idle_timer(executor) {}

  // TLS when the service is https; a plain connection uses next_layer() only.
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream;
  // Bytes read past the last answer: any left means the service sent more than it framed, and
  // the connection is not reused.
  boost::beast::flat_buffer buffer;
  uint32_t requests_served = 0;  // answers read on it so far

  // Pool bookkeeping: a watch or timer started while parked carries the generation it was
  // started with and does nothing once the connection has left the pool since.
  std::string key;
  uint64_t generation = 0;
  boost::asio::steady_timer idle_timer;
};

using AuthConnectionPtr = std::shared_ptr<AuthConnection>;

class KeepalivePool final {
 public:
  KeepalivePool() = default;
  KeepalivePool(const KeepalivePool&) = delete;
  KeepalivePool& operator=(const KeepalivePool&) = delete;

  // The most recently parked open connection under `key`, or null.
  AuthConnectionPtr Take(const std::string& key);
  // Parks `connection` under `key` for at most `idle_timeout`; with `max_idle` connections
  // already parked under that key it is closed instead.
  void Put(const std::string& key, AuthConnectionPtr connection, std::size_t max_idle,
           std::chrono::milliseconds idle_timeout);
  // Closes every parked connection (drain, shutdown).
  void Clear() noexcept;

  std::size_t idle_count(const std::string& key) const;

  static void Close(AuthConnection& connection) noexcept;

 private:
  void Drop(const AuthConnectionPtr& connection, uint64_t generation) noexcept;

  std::unordered_map<std::string, std::deque<AuthConnectionPtr>> idle_;  // back = most recent
};

}  // namespace pier::dataplane::external_auth
