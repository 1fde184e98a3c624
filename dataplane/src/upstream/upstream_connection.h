// One TCP connection to an upstream endpoint, owned by one HTTP session at a time or parked in
// its thread's ConnectionPool between requests.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace pier::dataplane::upstream {

struct UpstreamConnection final {
  explicit UpstreamConnection(boost::asio::any_io_executor executor) : stream(std::move(executor)) {}

  boost::beast::tcp_stream stream;
  // Read buffer for response parsing. Bytes left in it after a response mean the upstream sent
  // more than it framed, and the connection is not reusable.
  boost::beast::flat_buffer buffer;
  std::string endpoint_id;
  // How many requests this connection carried before the current one; 0 = freshly connected.
  uint32_t requests_served = 0;

  // Pool bookkeeping: a pending readiness wait started in the pool carries the generation it
  // was started with, so it can tell that the connection has since left the pool.
  uint64_t pool_generation = 0;
  std::chrono::steady_clock::time_point idle_since{};
};

using UpstreamConnectionPtr = std::shared_ptr<UpstreamConnection>;

}  // namespace pier::dataplane::upstream
