// One TCP (or TLS over TCP, backend-protocol HTTPS) connection to an upstream endpoint, owned by
// one HTTP session at a time or parked in its thread's ConnectionPool between requests.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tls/stream.h"

namespace pier::dataplane::upstream {

struct UpstreamConnection final {
  explicit UpstreamConnection(const Executor& executor) : stream(executor) {}
  UpstreamConnection(const Executor& executor, boost::asio::ssl::context& tls)
      : stream(executor, tls) {}

  tls::Stream stream;
  // Read buffer for response parsing. Bytes left in it after a response mean the upstream sent
  // more than it framed, and the connection is not reusable.
  boost::beast::flat_buffer buffer;
  // The pool key: the endpoint id, prefixed for TLS connections so TLS and plain never mix.
  std::string endpoint_id;
  // How many requests this connection carried before the current one; 0 = freshly connected.
  uint32_t requests_served = 0;

  // Pool bookkeeping: a pending readiness wait started in the pool carries the generation it
  // was started with, so it can tell that the connection has since left the pool.
  uint64_t pool_generation = 0;
  bool watched = false;  // the pool's readiness wait is pending on the socket
  // Connected for a WebSocket upgrade, so TCP keepalive was left for the tunnel to set (see
  // websocket::Tunnel::Housekeep); set before the connection goes anywhere else.
  bool keepalive_pending = false;
  std::chrono::steady_clock::time_point idle_since{};
};

using UpstreamConnectionPtr = std::shared_ptr<UpstreamConnection>;

}  // namespace pier::dataplane::upstream
