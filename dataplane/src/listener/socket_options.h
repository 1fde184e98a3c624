// TCP keepalive on proxied connections, client and upstream side alike. A tunnel may sit idle
// for an hour by design; without probes a peer that vanished (host gone, NAT entry dropped)
// would hold it, its buffers and its connection-limit slot until the idle timeout. With them
// the kernel fails the socket and the tunnel closes as "reset".
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>

namespace pier::dataplane {

// Probes start after `idle` without traffic, repeat every idle/3 (at least 1 s) and give up
// after kKeepAliveProbes unanswered ones; unacknowledged data gives up on the same schedule
// (TCP_USER_TIMEOUT). idle == 0 leaves the socket as it is. Best effort: a failure is logged
// at debug level, the connection still works without keepalive.
void ApplyTcpKeepAlive(boost::asio::ip::tcp::socket& socket, std::chrono::seconds idle) noexcept;

inline constexpr int kKeepAliveProbes = 3;

}  // namespace pier::dataplane
