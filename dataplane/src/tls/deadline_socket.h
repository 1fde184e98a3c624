// A TCP socket with Beast tcp_stream's timeout contract at a fraction of its cost: the plain
// half of tls::Stream.
//
// The contract: expires_after(d) sets an absolute deadline now + d for every operation started
// until the next expires_after/expires_never; if an operation is still pending when the
// deadline passes, the socket is closed and the operation completes with beast::error::timeout.
//
// beast::tcp_stream keeps it by arming a steady_timer for every read and write and cancelling it
// when the operation completes: a timer-queue insert, a cancel and one more handler run (the
// aborted wait) per operation, five or six times per proxied request. Here one timer per socket
// is armed lazily: a deadline later than the one the timer already waits for changes nothing
// but a time_point, and when the timer fires early it re-arms for the current deadline. So on a
// connection whose operations finish well within their timeouts the timer fires about once per
// timeout period instead of being armed and cancelled per operation.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

#include "tls/coarse_clock.h"
#include "tls/inq_read.h"
#include "tls/io_types.h"

namespace pier::dataplane::tls {

class DeadlineSocket {
 public:
  using executor_type = Executor;
  using Clock = std::chrono::steady_clock;

  explicit DeadlineSocket(Socket socket);
  explicit DeadlineSocket(const executor_type& executor);
  DeadlineSocket(DeadlineSocket&&) noexcept = default;
  DeadlineSocket& operator=(DeadlineSocket&& other) noexcept;
  DeadlineSocket(const DeadlineSocket&) = delete;
  DeadlineSocket& operator=(const DeadlineSocket&) = delete;
  ~DeadlineSocket();

  Socket& socket() noexcept { return state_->socket; }
  executor_type get_executor() noexcept { return state_->socket.get_executor(); }

  // Counted from CoarseNow(): never early, at most a clock tick late (see coarse_clock.h).
  void expires_after(Clock::duration timeout) { state_->deadline = CoarseNow() + timeout; }
  void expires_never() noexcept { state_->deadline = Clock::time_point::max(); }

  template <class MutableBufferSequence, class ReadHandler>
  void async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    Started();
    // A single buffer reads with TCP_INQ's count (inq_read.h).
    state_->socket.async_read_some(WithInq(buffers),
                                   Completion<std::decay_t<ReadHandler>>{std::forward<ReadHandler>(handler), state_});
  }

  template <class ConstBufferSequence, class WriteHandler>
  void async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    Started();
    state_->socket.async_write_some(buffers,
                                    Completion<std::decay_t<WriteHandler>>{std::forward<WriteHandler>(handler), state_});
  }

  // Handler: void(error_code).
  template <class ConnectHandler>
  void async_connect(const boost::asio::ip::tcp::endpoint& endpoint, ConnectHandler&& handler) {
    Started();
    state_->socket.async_connect(endpoint,
                                 Completion<std::decay_t<ConnectHandler>>{std::forward<ConnectHandler>(handler), state_});
  }

  // Opens the socket for `protocol` non-blocking (SOCK_NONBLOCK, so no ioctl follows), with
  // TCP_INQ on for its reads (inq_read.h).
  void open_non_blocking(const boost::asio::ip::tcp& protocol, boost::system::error_code& ec);

  // Connects the socket opened by open_non_blocking and sends what `data` holds without waiting
  // for the connection: on a local network the kernel runs the whole TCP handshake inside
  // connect(), so the connection is usually up when it returns and the first bytes go at once,
  // with no wait for writability and no handler run in between. Returns the bytes sent, with ec
  // clear: the connection is up, and a short count leaves the rest to async writes. Or 0 with
  // ec = would_block: the handshake is still under way; async_wait_connected waits for it. Or 0
  // with the connect's error (a refused connect shows here as connection_refused).
  std::size_t connect_and_send(const boost::asio::ip::tcp::endpoint& endpoint, boost::asio::const_buffer data,
                               boost::system::error_code& ec);

  // Waits until the connect connect_and_send started is done. Handler: void(error_code), the
  // connect's outcome; still pending at the deadline: beast::error::timeout.
  template <class ConnectHandler>
  void async_wait_connected(ConnectHandler&& handler) {
    Started();
    state_->socket.async_wait(
        Socket::wait_write,
        Completion<ConnectedCheck<std::decay_t<ConnectHandler>>>{
            ConnectedCheck<std::decay_t<ConnectHandler>>{std::forward<ConnectHandler>(handler), state_}, state_});
  }

  // Sends what the socket takes now, never waiting (send, or sendmsg for several buffers, with
  // MSG_DONTWAIT): the bytes sent, or 0 with would_block or the send's error. At most the first
  // kMaxSendBuffers non-empty buffers of the sequence go in one call.
  template <class ConstBufferSequence>
  std::size_t write_some_now(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    iovec pieces[kMaxSendBuffers];
    std::size_t count = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && count < kMaxSendBuffers; ++it) {
      boost::asio::const_buffer buffer(*it);
      if (buffer.size() == 0) continue;
      pieces[count++] = iovec{const_cast<void*>(buffer.data()), buffer.size()};
    }
    return SendNow(pieces, count, ec);
  }
  static constexpr std::size_t kMaxSendBuffers = 8;

  // What is readable now (into the first buffer of the sequence), eof, or would_block: never
  // waits. Asio's own read_some waits for readability unless the socket was put in
  // non-blocking mode first, which costs an ioctl per socket.
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    return ReceiveNow(*boost::asio::buffer_sequence_begin(buffers), ec);
  }

 private:
  std::size_t SendNow(iovec* pieces, std::size_t count, boost::system::error_code& ec) noexcept;
  std::size_t ReceiveNow(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) noexcept;

  // Shared with pending operations and the timer's wait, which may outlive this object.
  struct State {
    explicit State(Socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    explicit State(const Executor& executor) : socket(executor), timer(executor) {}
    Socket socket;
    SteadyTimer timer;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_for = Clock::time_point::max();  // the pending wait's expiry; max: none
    std::size_t pending = 0;  // operations in flight
    bool timed_out = false;   // the deadline closed the socket: errors from now on are timeouts
  };

  template <class Handler>
  struct Completion {
    Handler handler;
    std::shared_ptr<State> state;

    template <class... Args>
    void operator()(boost::system::error_code ec, Args&&... args) {
      --state->pending;
      if (ec && state->timed_out) ec = boost::beast::error::timeout;
      state.reset();
      handler(ec, std::forward<Args>(args)...);
    }
  };

  // A writable socket after a connect: the connect's own error is in SO_ERROR.
  template <class Handler>
  struct ConnectedCheck {
    Handler handler;
    std::shared_ptr<State> state;

    void operator()(boost::system::error_code ec) {
      if (!ec) ec = ConnectError(state->socket);
      state.reset();
      handler(ec);
    }
  };
  static boost::system::error_code ConnectError(Socket& socket) noexcept;

  // Counts the operation and makes sure the timer will look at the socket by its deadline.
  void Started();
  static void Arm(const std::shared_ptr<State>& state);
  static void OnTimer(const std::shared_ptr<State>& state, boost::system::error_code ec);

  std::shared_ptr<State> state_;
};

}  // namespace pier::dataplane::tls
