// TCP keepalive on proxied connections, client and upstream side alike. A tunnel may sit idle
// for an hour by design; without probes a peer that vanished (host gone, NAT entry dropped)
// would hold it, its buffers and its connection-limit slot until the idle timeout. With them
// the kernel fails the socket and the tunnel closes as "reset".
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>

#include "tls/io_types.h"

namespace pier::dataplane {

// Probes start after `idle` without traffic, repeat every idle/3 (at least 1 s) and give up
// after kKeepAliveProbes unanswered ones; unacknowledged data gives up on the same schedule
// (TCP_USER_TIMEOUT). idle == 0 leaves the socket as it is. Best effort: a failure is logged
// at debug level, the connection still works without keepalive.
void ApplyTcpKeepAlive(Socket& socket, std::chrono::seconds idle) noexcept;
// The same on a raw descriptor; false when a setsockopt failed.
bool ApplyTcpKeepAlive(int fd, std::chrono::seconds idle) noexcept;

// What every client connection gets: TCP_NODELAY and ApplyTcpKeepAlive. Set on a listening
// socket, Linux copies these options to each connection it accepts (the accepted socket is a
// clone of the listener), which saves six setsockopt calls per connection; false when a
// setsockopt failed, and the caller then sets them on each accepted socket.
bool ApplyClientSocketOptions(int fd, std::chrono::seconds keepalive_idle) noexcept;

inline constexpr int kKeepAliveProbes = 3;

}  // namespace pier::dataplane
