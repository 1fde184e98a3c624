// A connection that is either plain TCP or TLS over TCP, decided when it is made, with one
// interface for both: Beast's HTTP reads and writes, the tunnel's non-blocking reads, deadlines
// and socket options all go through it, so the HTTP session and the WebSocket tunnel are written
// once for both kinds. Models AsyncReadStream and AsyncWriteStream (completion handlers only),
// plus SyncReadStream for the tunnel's reads after a readiness wait.
//
// Both kinds keep beast::tcp_stream's deadline contract (expires_after: an operation still
// pending at the deadline fails with beast::error::timeout and the socket is closed). Plain
// connections, the hot path, get it from DeadlineSocket's lazily armed timer; TLS keeps
// Beast's ssl_stream over its basic_stream (tcp_stream with the worker's concrete executor).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "tls/deadline_socket.h"

namespace pier::dataplane::tls {

// How long a closing TLS connection waits for the peer's close_notify after sending its own: a
// peer that never answers does not hold the socket.
inline constexpr std::chrono::seconds kTlsShutdownTimeout{1};

class Stream {
 public:
  using TlsStream = boost::beast::ssl_stream<boost::beast::basic_stream<boost::asio::ip::tcp, Executor>>;
  using executor_type = DeadlineSocket::executor_type;

  // Plain TCP.
  explicit Stream(Socket socket) : plain_(std::in_place, std::move(socket)) {}
  explicit Stream(const Executor& executor) : plain_(std::in_place, executor) {}
  // TLS with `context`; the handshake is the owner's next step.
  Stream(Socket socket, boost::asio::ssl::context& context)
      : tls_(std::make_unique<TlsStream>(std::move(socket), context)) {}
  Stream(const Executor& executor, boost::asio::ssl::context& context)
      : tls_(std::make_unique<TlsStream>(executor, context)) {}

  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  bool is_tls() const noexcept { return tls_ != nullptr; }
  TlsStream& tls() noexcept { return *tls_; }
  SSL* native_handle() noexcept { return tls_ ? tls_->native_handle() : nullptr; }

  Socket& socket() noexcept { return tls_ ? tls_->next_layer().socket() : plain_->socket(); }
  // The plain connection's socket with its deadline; only when !is_tls().
  DeadlineSocket& plain() noexcept { return *plain_; }
  executor_type get_executor() noexcept { return tls_ ? tls_->next_layer().get_executor() : plain_->get_executor(); }

  // The deadline covers the TLS layer too: every TLS read or write is socket I/O.
  template <class Duration>
  void expires_after(Duration duration) {
    auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
    if (tls_) {
      tls_->next_layer().expires_after(timeout);
    } else {
      plain_->expires_after(timeout);
    }
  }
  void expires_never() {
    if (tls_) {
      tls_->next_layer().expires_never();
    } else {
      plain_->expires_never();
    }
  }

  // Connects the TCP socket (the TLS handshake, if any, is the caller's next step). Handler:
  // void(error_code); a connect still pending at the deadline fails with a timeout.
  template <class ConnectHandler>
  void async_connect(const boost::asio::ip::tcp::endpoint& endpoint, ConnectHandler&& handler) {
    if (tls_) {
      tls_->next_layer().async_connect(endpoint, std::forward<ConnectHandler>(handler));
    } else {
      plain_->async_connect(endpoint, std::forward<ConnectHandler>(handler));
    }
  }

  template <class MutableBufferSequence, class ReadHandler>
  void async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<ReadHandler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<ReadHandler>(handler));
    }
  }

  template <class ConstBufferSequence, class WriteHandler>
  void async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<WriteHandler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<WriteHandler>(handler));
    }
  }

  // What a plain connection's socket takes now, never waiting (see DeadlineSocket). A TLS
  // connection sends nothing here (0, would_block): its writes go through async_write_some.
  template <class ConstBufferSequence>
  std::size_t write_some_now(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    if (tls_) {
      ec = boost::asio::error::would_block;
      return 0;
    }
    return plain_->write_some_now(buffers, ec);
  }

  // With the socket non-blocking: what is readable now, or would_block. Over TLS, would_block
  // means every byte the socket had is inside OpenSSL and no whole record is there yet, so
  // waiting for the socket to be readable is right; any other outcome may leave decrypted or
  // undecrypted bytes buffered, so the caller must read again before it waits.
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    return tls_ ? tls_->read_some(buffers, ec) : plain_->read_some(buffers, ec);
  }

 private:
  std::optional<DeadlineSocket> plain_;
  // Behind a pointer so a plain connection carries no TLS state at all.
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace pier::dataplane::tls
