// Two facts about a socket's descriptor that Asio cannot know when it did not open the
// descriptor itself, recorded where Pier does know them. Each saves a system call per connection.
//
// - Not shared. Asio assumes an assigned descriptor (every accepted socket is one) may be shared
//   with a dup() of it, so closing it removes it from the epoll set explicitly: an
//   EPOLL_CTL_DEL per connection. The descriptors marked here come from accept() or socket()
//   and are never duplicated (Pier neither dups nor forks), so the kernel drops them from the
//   epoll set when they are closed, as it does for sockets Asio opened itself.
// - Non-blocking. A descriptor created with SOCK_NONBLOCK needs no FIONBIO ioctl before Asio's
//   first asynchronous operation on it. It is recorded as Asio's own internal non-blocking mode,
//   so Asio's synchronous operations still wait as on a blocking socket.
//
// Asio keeps both as flags in the socket's implementation state, which only a class derived
// from basic_socket may reach. The flags are those of Asio 1.18 (Boost 1.74), the version Pier
// builds against; with another version the functions do nothing and return false, and Asio does
// what it always does (the DEL on close, an ioctl before the first operation).
#pragma once

#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/version.hpp>

#include "tls/io_types.h"

namespace pier::dataplane::tls {

#if BOOST_ASIO_VERSION == 101800
inline constexpr bool kSocketFlagsSupported = true;

namespace detail {
// Reaches basic_socket's protected implementation through a pointer to member formed in a
// derived class, which the language allows; nothing is ever cast to this type.
struct SocketStateAccess : Socket {
  static boost::asio::detail::socket_ops::state_type& Of(Socket& socket) noexcept {
    return (socket.*(&SocketStateAccess::impl_)).get_implementation().state_;
  }
};
}  // namespace detail

// The open socket's descriptor is this process's only reference to it (see above).
inline bool MarkNotShared(Socket& socket) noexcept {
  if (!socket.is_open()) return false;
  detail::SocketStateAccess::Of(socket) &= static_cast<boost::asio::detail::socket_ops::state_type>(
      ~boost::asio::detail::socket_ops::possible_dup);
  return true;
}

// The open socket's descriptor was created with SOCK_NONBLOCK (or set so with fcntl).
inline bool MarkNonBlocking(Socket& socket) noexcept {
  if (!socket.is_open()) return false;
  detail::SocketStateAccess::Of(socket) |= boost::asio::detail::socket_ops::internal_non_blocking;
  return true;
}
#else
inline constexpr bool kSocketFlagsSupported = false;
inline bool MarkNotShared(Socket&) noexcept { return false; }
inline bool MarkNonBlocking(Socket&) noexcept { return false; }
#endif

}  // namespace pier::dataplane::tls
