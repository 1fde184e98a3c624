// A connection that is either plain TCP or TLS over TCP, decided when it is made, with one
// interface for both: Beast's HTTP reads and writes, the tunnel's non-blocking reads, deadlines
// and socket options all go through it, so the HTTP session and the WebSocket tunnel are written
// once for both kinds. Models AsyncReadStream and AsyncWriteStream (completion handlers only),
// plus SyncReadStream for the tunnel's reads after a readiness wait.
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

namespace pier::dataplane::tls {

class Stream {
 public:
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using executor_type = boost::beast::tcp_stream::executor_type;

  // Plain TCP.
  explicit Stream(boost::asio::ip::tcp::socket socket) : plain_(std::in_place, std::move(socket)) {}
  explicit Stream(boost::asio::any_io_executor executor) : plain_(std::in_place, std::move(executor)) {}
  // TLS with `context`; the handshake is the owner's next step.
  Stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& context)
      : tls_(std::make_unique<TlsStream>(std::move(socket), context)) {}
  Stream(boost::asio::any_io_executor executor, boost::asio::ssl::context& context)
      : tls_(std::make_unique<TlsStream>(std::move(executor), context)) {}

  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  bool is_tls() const noexcept { return tls_ != nullptr; }
  TlsStream& tls() noexcept { return *tls_; }
  SSL* native_handle() noexcept { return tls_ ? tls_->native_handle() : nullptr; }

  boost::beast::tcp_stream& tcp() noexcept { return tls_ ? tls_->next_layer() : *plain_; }
  boost::asio::ip::tcp::socket& socket() noexcept { return tcp().socket(); }
  executor_type get_executor() noexcept { return tcp().get_executor(); }

  // tcp_stream's deadline covers the TLS layer too: every TLS read or write is socket I/O.
  template <class Duration>
  void expires_after(Duration duration) {
    tcp().expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration));
  }
  void expires_never() { tcp().expires_never(); }

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

  // With the socket non-blocking: what is readable now, or would_block. Over TLS, would_block
  // means every byte the socket had is inside OpenSSL and no whole record is there yet, so
  // waiting for the socket to be readable is right; any other outcome may leave decrypted or
  // undecrypted bytes buffered, so the caller must read again before it waits.
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    return tls_ ? tls_->read_some(buffers, ec) : plain_->read_some(buffers, ec);
  }

 private:
  std::optional<boost::beast::tcp_stream> plain_;
  // Behind a pointer so a plain connection carries no TLS state at all.
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace pier::dataplane::tls
