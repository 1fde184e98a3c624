#include "pier/common/admin_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pier/common/address.h"
#include "pier/common/metrics.h"

namespace pier {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// accept() failing (EMFILE when the process is out of descriptors) keeps failing while the
// connection waits in the queue; retrying at once would spin the admin thread and flood the log.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

AdminResponse Text(unsigned status, std::string body) {
  return AdminResponse{status, "text/plain; charset=utf-8", std::move(body)};
}

// The request path without its query string: probes and scrapers sometimes add parameters.
std::string_view PathOf(std::string_view target) {
  auto query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

}  // namespace

class AdminServer::Impl final : public std::enable_shared_from_this<AdminServer::Impl> {
 public:
  Impl(AdminHandlers handlers, AdminLimits limits)
      : handlers_(std::move(handlers)), limits_(limits), acceptor_(io_) {}

  Result<bool> Listen(const tcp::endpoint& endpoint, const std::string& listen_addr) {
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Fail("admin server cannot listen on " + listen_addr + ": " + ec.message());
    local_ = acceptor_.local_endpoint(ec);
    return true;
  }

  void Run() {
    DoAccept();
    thread_ = std::thread([self = shared_from_this()] { self->RunLoop(); });
  }

  void Stop() noexcept {
    if (stopped_.exchange(true)) return;
    asio::post(io_, [self = shared_from_this()] { self->CloseAll(); });
    if (thread_.joinable()) thread_.join();
  }

  tcp::endpoint local() const { return local_; }

  AdminResponse Handle(const http::request_header<>& request) const;
  void Release(uint64_t id) { sessions_.erase(id); }
  const AdminLimits& limits() const { return limits_; }

 private:
  class Session;

  void RunLoop() noexcept {
    // A handler that throws must not take the admin endpoints down with it.
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("admin server: unexpected exception: {}", e.what());
      }
    }
  }

  void DoAccept();
  void CloseAll();

  AdminHandlers handlers_;
  AdminLimits limits_;
  // Declared before io_ so that sessions still owned by queued handlers, destroyed with io_,
  // can unregister themselves. Touched on the admin thread only.
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;
  uint64_t next_session_id_ = 0;
  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_{io_};
  tcp::endpoint local_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

// One client connection: read a request with a deadline, answer it, repeat while keep-alive.
class AdminServer::Impl::Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Impl& server, uint64_t id)
      : stream_(std::move(socket)), buffer_(server.limits().max_header_bytes + 1024), server_(server), id_(id) {}
  ~Session() { server_.Release(id_); }

  void Start() { DoRead(); }

  void Close() noexcept {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.limits().max_header_bytes));
    stream_.expires_after(server_.limits().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    // The client closing between requests, or idling past the deadline, is the normal end.
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return Reply(Text(431, "request header too large\n"), /*keep_alive=*/false, 11);
    }
    if (ec) {
      spdlog::debug("admin server: bad request from {}: {}", Peer(), ec.message());
      return Reply(Text(400, "bad request: " + ec.message() + "\n"), /*keep_alive=*/false, 11);
    }
    const auto& request = parser_->get();
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return Reply(Text(405, "only GET and HEAD\n"), request.keep_alive(), request.version(), request.method());
    }
    Reply(server_.Handle(request.base()), request.keep_alive(), request.version(), request.method());
  }

  void Reply(AdminResponse response, bool keep_alive, unsigned version, http::verb method = http::verb::get) {
    auto message = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version);
    message->set(http::field::server, "pier-admin");
    message->set(http::field::content_type, response.content_type);
    if (response.status == 405) message->set(http::field::allow, "GET, HEAD");
    message->body() = std::move(response.body);
    message->keep_alive(keep_alive);
    message->prepare_payload();
    if (method == http::verb::head) message->body().clear();  // Content-Length stays the GET one
    stream_.expires_after(server_.limits().read_timeout);
    http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code ec, std::size_t) {
      self->OnWrite(ec, message->need_eof());
    });
  }

  void OnWrite(beast::error_code ec, bool close) {
    if (ec || close) return Close();
    DoRead();
  }

  std::string Peer() const {
    boost::system::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    return ec ? std::string("?") : parse::FormatEndpoint(endpoint);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  Impl& server_;
  uint64_t id_;
};

void AdminServer::Impl::DoAccept() {
  acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      // Typically EMFILE: keep accepting after a pause, the condition is usually transient.
      spdlog::warn("admin server: accept failed: {}", ec.message());
      self->accept_retry_.expires_after(kAcceptRetryDelay);
      self->accept_retry_.async_wait([self](boost::system::error_code timer_ec) {
        if (!timer_ec && self->acceptor_.is_open()) self->DoAccept();
      });
      return;
    }
    if (self->sessions_.size() >= self->limits_.max_connections) {
      spdlog::debug("admin server: connection limit {} reached, closing new connection", self->limits_.max_connections);
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      const uint64_t id = self->next_session_id_++;
      auto session = std::make_shared<Session>(std::move(socket), *self, id);
      self->sessions_.emplace(id, session);
      session->Start();
    }
    self->DoAccept();
  });
}

void AdminServer::Impl::CloseAll() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  // Copy first: closing a session may destroy it, which erases it from sessions_.
  std::vector<std::shared_ptr<Session>> live;
  for (auto& [id, weak] : sessions_) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  for (auto& session : live) session->Close();
}

AdminResponse AdminServer::Impl::Handle(const http::request_header<>& request) const {
  const std::string path(PathOf(request.target()));
  if (auto it = handlers_.routes.find(path); it != handlers_.routes.end()) {
    try {
      return it->second();
    } catch (const std::exception& e) {
      spdlog::error("admin server: handler for {} failed: {}", path, e.what());
      return Text(500, "internal error\n");
    }
  }
  if (path == "/metrics") return AdminResponse{200, kMetricsContentType, metrics::Serialize()};
  if (path == "/healthz") return Text(200, "ok\n");
  if (path == "/readyz") {
    bool ready = true;
    try {
      ready = !handlers_.ready || handlers_.ready();
    } catch (const std::exception& e) {
      spdlog::error("admin server: readiness check failed: {}", e.what());
      ready = false;
    }
    return ready ? Text(200, "ok\n") : Text(503, "not ready\n");
  }
  return Text(404, "not found\n");
}

Result<std::unique_ptr<AdminServer>> AdminServer::Start(const std::string& listen_addr, AdminHandlers handlers,
                                                        AdminLimits limits) {
  auto endpoint = parse::ListenAddress(listen_addr);
  if (!endpoint) return Fail(endpoint.error());
  auto impl = std::make_shared<Impl>(std::move(handlers), limits);
  auto listening = impl->Listen(*endpoint, listen_addr);
  if (!listening) return Fail(listening.error());
  impl->Run();
  spdlog::info("admin server listening on {}", parse::FormatEndpoint(impl->local()));
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

AdminServer::AdminServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminServer::~AdminServer() { Stop(); }

tcp::endpoint AdminServer::LocalEndpoint() const { return impl_->local(); }

void AdminServer::Stop() noexcept { impl_->Stop(); }

}  // namespace pier
