#include "tls/deadline_socket.h"

#include <sys/socket.h>

#include <cerrno>

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
