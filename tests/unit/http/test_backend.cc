#include "test_backend.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace pier::dataplane::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

TestBackend::TestBackend() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

TestBackend::~TestBackend() {
  stopping_ = true;
  boost::system::error_code ignored;
  // Wake the blocking accept with a connection of our own.
  tcp::socket poke(ioc_);
  poke.connect(acceptor_.local_endpoint(), ignored);
  accept_thread_.join();
  {
    std::lock_guard lock(mutex_);
    for (auto& socket : sockets_) socket->shutdown(tcp::socket::shutdown_both, ignored);
  }
  for (auto& thread : threads_) thread.join();
}

void TestBackend::AcceptLoop() {
  for (int id = 1;; ++id) {
    auto socket = std::make_shared<tcp::socket>(ioc_);
    boost::system::error_code ec;
    acceptor_.accept(*socket, ec);
    if (stopping_ || ec) return;
    ++accepted_;
    std::lock_guard lock(mutex_);
    sockets_.push_back(socket);
    threads_.emplace_back([this, socket, id] { Serve(socket, id); });
  }
}

// Paths:
//   /ws...           WebSocket echo (accepts the upgrade)
//   /refuse...       answers an upgrade with 426 and a body, keeps the connection
//   /bad-accept      answers an upgrade with 101 and a wrong Sec-WebSocket-Accept
//   /big?n=N         N bytes of 'x', chunked
//   /close-delimited body without length, ended by closing the connection
//   /slow            sleeps 1 s before answering
//   anything else    echoes the body; X-Seen-* headers report what arrived
void TestBackend::Serve(std::shared_ptr<tcp::socket> socket, int connection_id) {
  // Whatever ends the exchange, the proxy must see the close.
  struct Closer {
    tcp::socket& socket;
    ~Closer() {
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
    }
  } closer{*socket};
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // Beast 1.74 mistreats boost::none
    boost::system::error_code ec;
    bhttp::read(*socket, buffer, parser, ec);
    if (ec) return;
    auto request = parser.release();
    std::string target(request.target());

    if (target.rfind("/ws", 0) == 0 && beast::websocket::is_upgrade(request)) {
      beast::websocket::stream<tcp::socket&> ws(*socket);
      ws.accept(request, ec);
      if (ec) return;
      for (;;) {
        beast::flat_buffer message;
        ws.read(message, ec);
        if (ec) return;
        ws.text(ws.got_text());
        ws.write(message.data(), ec);
        if (ec) return;
      }
    }
    if (target == "/bad-accept") {
      std::string response =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBhbnN3ZXI=\r\n\r\n";
      asio::write(*socket, asio::buffer(response), ec);
      return;
    }
    if (target == "/close-delimited") {
      std::string response = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-the-end";
      asio::write(*socket, asio::buffer(response), ec);
      socket->shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    if (target == "/slow") std::this_thread::sleep_for(std::chrono::seconds(1));

    bhttp::response<bhttp::string_body> response{bhttp::status::ok, 11};
    response.set("X-Conn-Id", std::to_string(connection_id));
    if (target.rfind("/refuse", 0) == 0) {
      response.result(bhttp::status::upgrade_required);
      response.body() = "websocket not here";
    } else if (target.rfind("/big?n=", 0) == 0) {
      response.body() = std::string(std::stoul(target.substr(7)), 'x');
      response.chunked(true);
    } else {
      response.set("X-Seen-XFF", request["X-Forwarded-For"]);
      response.set("X-Seen-Real-IP", request["X-Real-IP"]);
      response.set("X-Seen-Host", request[bhttp::field::host]);
      response.set("X-Seen-Forwarded-Host", request["X-Forwarded-Host"]);
      response.set("X-Seen-Proto", request["X-Forwarded-Proto"]);
      response.set("X-Seen-Request-Id", request["X-Request-ID"]);
      response.set("X-Seen-Connection", request[bhttp::field::connection]);
      response.set("X-Seen-Drop", request["X-Drop"]);
      response.set("X-Seen-TE", request[bhttp::field::transfer_encoding]);
      // A hop-by-hop header the proxy must not pass back.
      response.set(bhttp::field::keep_alive, "timeout=30");
      response.body() = request.body();
    }
    if (!response.chunked()) response.prepare_payload();
    response.keep_alive(request.keep_alive());
    bhttp::write(*socket, response, ec);
    if (ec || !request.keep_alive()) return;
  }
}

}  // namespace pier::dataplane::testing
