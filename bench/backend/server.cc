#include "server.h"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <cstdio>
#include <memory>
#include <string_view>

namespace pier::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// The same bytes for every plain request: serialising a Beast response would cost more than the
// proxies we measure spend on it.
constexpr std::string_view kOk =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
constexpr std::string_view kOkClose =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
constexpr std::size_t kMaxMessageBytes = 64 * 1024 * 1024;
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

asio::awaitable<void> ServeWebSocket(tcp::socket socket, http::request<http::empty_body> request, bool echo) {
  websocket::stream<tcp::socket> ws(std::move(socket));
  ws.auto_fragment(false);
  ws.read_message_max(kMaxMessageBytes);
  error_code ec;
  co_await ws.async_accept(request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    // closed (the client's close frame) and EOF/reset both just end the session.
    if (ec) co_return;
    if (echo) {
      ws.binary(ws.got_binary());
      co_await ws.async_write(buffer.data(), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    buffer.consume(buffer.size());
  }
}

asio::awaitable<void> ServeConnection(tcp::socket socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    co_await http::async_read(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // end_of_stream: the client is done with this keep-alive connection
    auto request = parser.release();
    if (websocket::is_upgrade(request)) {
      auto target = request.target();
      bool echo = !target.starts_with("/sink");
      co_await ServeWebSocket(std::move(socket), std::move(request), echo);
      co_return;
    }
    bool keep_alive = request.keep_alive();
    auto reply = keep_alive ? kOk : kOkClose;
    co_await asio::async_write(socket, asio::buffer(reply.data(), reply.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) co_return;
  }
}

asio::awaitable<void> Accept(std::shared_ptr<tcp::acceptor> acceptor) {
  error_code ec;
  for (;;) {
    tcp::socket socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE and friends: keep serving the connections we have and try again.
      std::fprintf(stderr, "pier-bench-backend: accept failed: %s\n", ec.message().c_str());
      continue;
    }
    asio::co_spawn(acceptor->get_executor(), ServeConnection(std::move(socket)), asio::detached);
  }
}

}  // namespace

std::string StartBackend(asio::io_context& ioc, const tcp::endpoint& endpoint) {
  auto acceptor = std::make_shared<tcp::acceptor>(ioc);
  error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) {
    int one = 1;
    if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      return "SO_REUSEPORT failed";
    }
  }
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "listen on " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()) + ": " + ec.message();
  asio::co_spawn(ioc, Accept(std::move(acceptor)), asio::detached);
  return {};
}

}  // namespace pier::bench
