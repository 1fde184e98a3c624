// Reads that learn from the kernel whether they emptied the socket, so the next read waits for
// data instead of first asking for it in vain.
//
// Asio starts every read on a socket with a speculative recv() and waits for readiness only when
// that finds nothing, unless the descriptor's previous read reported "exhausted"; in Asio 1.18
// only a read of 0 bytes (end of stream) does. So every read that follows a short one (the next
// request on a keep-alive connection, the next message through a tunnel, the first read of a
// tunnel after the 101) costs a recv() that fails with EAGAIN before the wait: one wasted
// system call per message and direction, the largest difference left between Pier's and
// nginx's system calls.
//
// A short read alone does not prove the socket empty: Linux's TCP receive stops early at urgent
// data and at the peer's FIN, and both leave something to read with no further readiness event
// to come (with edge-triggered epoll, a new event comes only with new data). So the reads here
// ask the kernel: with the TCP_INQ socket option on, recvmsg() returns how many bytes are left in
// the receive queue once the read is done, and reports 1 when the peer's FIN is waiting behind
// them. Only a count of 0 marks the read exhausted. Whatever arrives after that raises a new
// event, on which Asio reads again. nginx draws the same conclusion from a short read plus its
// own EPOLLRDHUP bookkeeping.
//
// The hook is a specialisation of Asio's receive operation for InqBuffer, a single mutable
// buffer of its own type; every other buffer type keeps Asio's code. A socket without TCP_INQ
// gets no count back and the read behaves as Asio's own. The operation's layout is that of
// Asio 1.18 (Boost 1.74), the version Pier builds against; with another version InqBuffer is a
// plain buffer.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/socket_base.hpp>
// After socket_base.hpp, which this internal header needs but does not include.
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/asio/version.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

namespace pier::dataplane::tls {

// One buffer, read with TCP_INQ's count (see above).
struct InqBuffer : boost::asio::mutable_buffer {
  explicit InqBuffer(const boost::asio::mutable_buffer& buffer) noexcept : boost::asio::mutable_buffer(buffer) {}
};

// The sequence as an InqBuffer when it is a single buffer; any other sequence unchanged.
template <class MutableBufferSequence>
decltype(auto) WithInq(const MutableBufferSequence& buffers) noexcept {
  if constexpr (std::is_convertible_v<const MutableBufferSequence&, boost::asio::mutable_buffer>) {
    return InqBuffer(buffers);
  } else {
    return (buffers);
  }
}

// Asks the kernel for TCP_INQ counts on a socket's reads; a socket accepted from a listener
// that has it set inherits it. False when the kernel refused (reads then behave as Asio's own).
inline bool EnableInq(int fd) noexcept {
#ifdef TCP_INQ
  int on = 1;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_INQ, &on, sizeof(on)) == 0;
#else
  (void)fd;
  return false;
#endif
}

#if BOOST_ASIO_VERSION == 101800 && defined(TCP_INQ) && defined(TCP_CM_INQ)
inline constexpr bool kInqReadsSupported = true;
#else
inline constexpr bool kInqReadsSupported = false;
#endif

}  // namespace pier::dataplane::tls

#if BOOST_ASIO_VERSION == 101800 && defined(TCP_INQ) && defined(TCP_CM_INQ)
namespace boost::asio::detail {

// Asio's non_blocking_recv1 with recvmsg() in place of recv(), plus the exhausted verdict.
template <>
inline reactor_op::status reactive_socket_recv_op_base<pier::dataplane::tls::InqBuffer>::do_perform(
    reactor_op* base) {
  auto* o = static_cast<reactive_socket_recv_op_base*>(base);
  const bool stream = (o->state_ & socket_ops::stream_oriented) != 0;
  iovec piece{o->buffers_.data(), o->buffers_.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr message{};
  message.msg_iov = &piece;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(o->socket_, &message, o->flags_);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
    o->ec_.assign(errno, boost::asio::error::get_system_category());
    o->bytes_transferred_ = 0;
    return done;
  }
  o->bytes_transferred_ = static_cast<std::size_t>(n);
  if (n == 0 && stream) {
    o->ec_ = boost::asio::error::eof;
    return done_and_exhausted;  // as Asio's own
  }
  o->ec_ = boost::system::error_code();
  // A peek leaves the bytes queued; only a consuming read can have emptied the socket.
  if (!stream || (o->flags_ & MSG_PEEK) != 0) return done;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int left;
      std::memcpy(&left, CMSG_DATA(c), sizeof(left));
      return left == 0 ? done_and_exhausted : done;
    }
  }
  return done;
}

}  // namespace boost::asio::detail
#endif
