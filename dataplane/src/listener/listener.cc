#include "listener/listener.h"

#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <cerrno>

#include "http/http_session.h"
#include "listener/socket_options.h"
#include "pier/common/address.h"
#include "tls/inq_read.h"
#include "tls/socket_flags.h"

namespace pier::dataplane {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {
// accept() failing (EMFILE, ENOBUFS) usually persists for a moment; retrying at once would spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

bool IsDescriptorExhaustion(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors ||
         ec == boost::system::error_code(ENFILE, boost::system::system_category());
}
}  // namespace

Listener::Listener(Worker& worker, bool tls)
    : worker_(worker), acceptor_(worker.ioc()), retry_timer_(worker.ioc()), tls_(tls) {}

Result<std::shared_ptr<Listener>> Listener::Bind(Worker& worker, const tcp::endpoint& endpoint, bool tls) {
  std::shared_ptr<Listener> listener(new Listener(worker, tls));
  auto& acceptor = listener->acceptor_;
  boost::system::error_code ec;
  auto fail = [&](const char* what) {
    return Fail(std::string("listen on ") + parse::FormatEndpoint(endpoint) + ": " + what + ": " + ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("SO_REUSEADDR");
  acceptor.set_option(ReusePort(true), ec);
  if (ec) return fail("SO_REUSEPORT");
  acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  listener->accepted_inherit_options_ =
      ApplyClientSocketOptions(acceptor.native_handle(), worker.server().options.tcp_keepalive_idle);
  // Accepted sockets inherit TCP_INQ too: reads that empty them say so (tls/inq_read.h).
  if (!tls::EnableInq(acceptor.native_handle())) {
    spdlog::debug("listen on {}: TCP_INQ not available (errno {}); reads behave as Asio's own",
                  parse::FormatEndpoint(endpoint), errno);
  }
  if (!listener->accepted_inherit_options_) {
    spdlog::debug("listen on {}: socket options not set on the listener (errno {}); set per connection",
                  parse::FormatEndpoint(endpoint), errno);
  }
  return listener;
}

tcp::endpoint Listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::Run() { DoAccept(); }

void Listener::Stop() noexcept {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
}

void Listener::DoAccept() {
  acceptor_.async_accept(peer_, beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
}

void Listener::OnAccept(boost::system::error_code ec, Socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  auto& rejected = http::ProxyMetrics::Get().rejected;
  if (ec) {
    // Out of descriptors: the pending connection stays in the kernel's queue, so accepting
    // again at once would fail again in a busy loop. Pause; closing connections frees some.
    if (IsDescriptorExhaustion(ec)) {
      rejected[static_cast<std::size_t>(http::Rejection::kFdExhausted)]->Increment();
      if (!fd_exhausted_) spdlog::error("accept: {}; pausing accepts until descriptors are free", ec.message());
      fd_exhausted_ = true;
    } else {
      rejected[static_cast<std::size_t>(http::Rejection::kAcceptFailed)]->Increment();
      spdlog::warn("accept failed: {}", ec.message());
    }
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code timer_ec) {
      if (!timer_ec && !self->stopped_) self->DoAccept();
    });
    return;
  }
  if (fd_exhausted_) {
    fd_exhausted_ = false;
    spdlog::info("accept: descriptors available again");
  }
  if (worker_.server().draining.load(std::memory_order_relaxed)) {
    // Accepted in the instant before the acceptor closed: refuse rather than serve.
    rejected[static_cast<std::size_t>(http::Rejection::kDraining)]->Increment();
    return;
  }
  auto& metrics = http::ProxyMetrics::Get();
  auto guard = ConnectionGuard::TryAcquire(worker_.server(),
                                           tls_ ? metrics.https_connections_active : metrics.http_connections_active);
  if (!guard) {
    // --max-connections: closing at once is the cheapest answer and frees the descriptor.
    rejected[static_cast<std::size_t>(http::Rejection::kMaxConnections)]->Increment();
    boost::system::error_code ignored;
    socket.close(ignored);
    DoAccept();
    return;
  }
  tls::MarkNotShared(socket);  // from accept(): closing it needs no EPOLL_CTL_DEL
  if (!accepted_inherit_options_) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    ApplyTcpKeepAlive(socket, worker_.server().options.tcp_keepalive_idle);
  }
  std::make_shared<http::HttpSession>(worker_, std::move(socket), peer_.address(), std::move(*guard),
                                      tls_ ? worker_.server().tls.get() : nullptr)
      ->Start();
  DoAccept();
}

}  // namespace pier::dataplane
