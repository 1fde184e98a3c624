#include "tls/deadline_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "tls/socket_flags.h"

namespace pier::dataplane::tls {

namespace asio = boost::asio;

DeadlineSocket::DeadlineSocket(Socket socket) : state_(std::make_shared<State>(std::move(socket))) {}

DeadlineSocket::DeadlineSocket(const executor_type& executor)
    : state_(std::make_shared<State>(executor)) {}

DeadlineSocket& DeadlineSocket::operator=(DeadlineSocket&& other) noexcept {
  if (this != &other) {
    if (state_) state_->timer.cancel();
    state_ = std::move(other.state_);
  }
  return *this;
}

DeadlineSocket::~DeadlineSocket() {
  // A lazily armed wait may be an hour away; it holds the state (and the closed socket) until
  // it runs, so it is cut short here rather than left in the timer queue.
  if (state_) state_->timer.cancel();
}

void DeadlineSocket::Started() {
  State& state = *state_;
  ++state.pending;
  if (state.deadline == Clock::time_point::max() || state.armed_for <= state.deadline) return;
  Arm(state_);
}

void DeadlineSocket::Arm(const std::shared_ptr<State>& state) {
  // expires_at cancels a later wait, whose handler then sees operation_aborted and leaves.
  state->armed_for = state->deadline;
  state->timer.expires_at(state->deadline);
  state->timer.async_wait([state](boost::system::error_code ec) { OnTimer(state, ec); });
}

void DeadlineSocket::OnTimer(const std::shared_ptr<State>& state, boost::system::error_code ec) {
  if (ec) return;  // cancelled: re-armed earlier, or the socket's owner is gone
  state->armed_for = Clock::time_point::max();
  // Nothing in flight, or no deadline now: the next operation arms the timer again if needed.
  if (state->pending == 0 || state->deadline == Clock::time_point::max()) return;
  if (Clock::now() < state->deadline) {
    Arm(state);  // the deadline moved on since this wait was armed
    return;
  }
  // As tcp_stream does: the pending operations end with the socket, reported as timeouts.
  state->timed_out = true;
  boost::system::error_code ignored;
  state->socket.close(ignored);
}

void DeadlineSocket::open_non_blocking(const asio::ip::tcp& protocol, boost::system::error_code& ec) {
  if (!kSocketFlagsSupported) {
    // Asio's own open and a FIONBIO: the same socket for one more system call.
    state_->socket.open(protocol, ec);
    if (!ec) state_->socket.non_blocking(true, ec);
    if (!ec) EnableInq(state_->socket.native_handle());
    return;
  }
  const int fd = ::socket(protocol.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol.protocol());
  if (fd < 0) {
    ec.assign(errno, asio::error::get_system_category());
    return;
  }
  state_->socket.assign(protocol, fd, ec);  // registers it with the reactor
  if (ec) {
    ::close(fd);
    return;
  }
  MarkNotShared(state_->socket);
  MarkNonBlocking(state_->socket);
  EnableInq(fd);  // best effort: without it reads behave as Asio's own (inq_read.h)
}

std::size_t DeadlineSocket::connect_and_send(const asio::ip::tcp::endpoint& endpoint, asio::const_buffer data,
                                             boost::system::error_code& ec) {
  ec = {};
  const int fd = state_->socket.native_handle();
  int result;
  do {
    result = ::connect(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size()));
  } while (result != 0 && errno == EINTR);
  if (result != 0 && errno != EINPROGRESS) {
    ec.assign(errno, asio::error::get_system_category());
    return 0;
  }
  // On a socket whose handshake is still under way send() fails with EAGAIN; once the handshake
  // failed it reports that error (ECONNREFUSED), as a read of SO_ERROR would.
  ssize_t sent;
  do {
    sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent >= 0) return static_cast<std::size_t>(sent);
  ec.assign(errno, asio::error::get_system_category());  // EAGAIN compares equal to would_block
  return 0;
}

boost::system::error_code DeadlineSocket::ConnectError(Socket& socket) noexcept {
  int error = 0;
  socklen_t length = sizeof(error);
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  return {error, asio::error::get_system_category()};
}

std::size_t DeadlineSocket::SendNow(iovec* pieces, std::size_t count, boost::system::error_code& ec) noexcept {
  ec = {};
  if (count == 0) return 0;
  const int fd = state_->socket.native_handle();
  if (count == 1) {
    // send() skips what sendmsg() costs the kernel on top: copying in the message header and
    // importing the iovec array (about 130 cycles a call, measured on the echo's sends).
    for (;;) {
      const ssize_t n = ::send(fd, pieces[0].iov_base, pieces[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      ec.assign(errno, asio::error::get_system_category());
      return 0;
    }
  }
  msghdr message{};
  message.msg_iov = pieces;
  message.msg_iovlen = count;
  for (;;) {
    const ssize_t n = ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    ec.assign(errno, asio::error::get_system_category());  // EAGAIN compares equal to would_block
    return 0;
  }
}

std::size_t DeadlineSocket::ReceiveNow(asio::mutable_buffer buffer, boost::system::error_code& ec) noexcept {
  ec = {};
  if (buffer.size() == 0) return 0;  // as Asio: an empty read is not an end of stream
  for (;;) {
    const ssize_t n = ::recv(state_->socket.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) {
      ec = asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    ec.assign(errno, asio::error::get_system_category());  // EAGAIN compares equal to would_block
    return 0;
  }
}

}  // namespace pier::dataplane::tls
