#include "listener.h"

#include <spdlog/spdlog.h>

#include <charconv>

namespace pier::chat {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace {

// Out of file descriptors and the like: wait a little instead of spinning on accept.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

}  // namespace

Result<tcp::endpoint> ParseListenAddress(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return Fail("listen address \"" + text + "\" must be HOST:PORT");
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Fail("listen address \"" + text + "\" has an invalid port");
  }
  boost::system::error_code address_error;
  auto address = asio::ip::make_address(host, address_error);
  if (address_error) return Fail("listen address \"" + text + "\" needs an IP literal as host");
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

Listener::Listener(asio::io_context& ioc, std::shared_ptr<const BackendContext> context)
    : ioc_(ioc), acceptor_(ioc), retry_timer_(ioc), context_(std::move(context)) {}

Result<std::shared_ptr<Listener>> Listener::Create(asio::io_context& ioc, const tcp::endpoint& endpoint,
                                                   std::shared_ptr<const BackendContext> context) {
  std::shared_ptr<Listener> listener(new Listener(ioc, std::move(context)));
  boost::system::error_code ec;
  auto where = [&] {
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  };
  listener->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) listener->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) listener->acceptor_.bind(endpoint, ec);
  if (!ec) listener->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Fail("cannot listen on " + where() + ": " + ec.message());
  return listener;
}

void Listener::Run() { DoAccept(); }

void Listener::Stop() noexcept {
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
}

tcp::endpoint Listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::DoAccept() {
  // One thread runs everything (the chat room relies on it), so no strand is needed.
  acceptor_.async_accept(boost::beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
}

void Listener::OnAccept(boost::beast::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // Stop()
  if (ec) {
    spdlog::warn("accept failed: {}; retrying in {} ms", ec.message(), kAcceptRetryDelay.count());
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](boost::beast::error_code wait_error) {
      if (!wait_error) self->DoAccept();
    });
    return;
  }
  boost::system::error_code nodelay_error;
  socket.set_option(tcp::no_delay(true), nodelay_error);  // chat messages are small; send them now
  std::make_shared<HttpSession>(std::move(socket), context_)->Run();
  DoAccept();
}

}  // namespace pier::chat
