#include "http_session.h"

#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace pier::chat {
namespace beast = boost::beast;
namespace http = beast::http;
namespace {

// Generous for a browser, small enough that a client cannot make us buffer much.
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxBodyBytes = 1024 * 1024;
// Bounds both an idle keep-alive connection and a slow request.
constexpr std::chrono::seconds kReadTimeout{30};
constexpr std::chrono::seconds kWriteTimeout{30};

std::string PeerOf(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<const BackendContext> context)
    : stream_(std::move(socket)), context_(std::move(context)) {
  peer_ = PeerOf(stream_.socket());
}

void HttpSession::Run() { DoRead(); }

void HttpSession::DoRead() {
  // A fresh parser per request: its limits and state must not carry over.
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(kMaxBodyBytes);
  stream_.expires_after(kReadTimeout);
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
}

void HttpSession::OnRead(beast::error_code ec, std::size_t) {
  // end_of_stream: the client closed between requests, the normal end of keep-alive.
  if (ec == http::error::end_of_stream) return DoClose();
  if (ec == beast::error::timeout) return;  // the deadline already closed the socket
  if (ec == http::error::header_limit) return ReplyError(431, "request header fields too large");
  if (ec == http::error::body_limit) return ReplyError(413, "request body too large");
  if (ec) {
    // A malformed request leaves the stream position unknown: answer 400, then close. Anything
    // else (reset, a request cut short) means nobody is listening for an answer.
    bool malformed = ec.category() == http::make_error_code(http::error::bad_target).category() &&
                     ec != http::error::partial_message;
    spdlog::debug("request from {} failed: {}", peer_, ec.message());
    if (malformed) return ReplyError(400, "malformed request: " + ec.message());
    return DoClose();
  }

  Request request = parser_->release();
  if (beast::websocket::is_upgrade(request)) {
    WebSocketEndpoint endpoint = WebSocketEndpointFor(request.target());
    if (endpoint != WebSocketEndpoint::kNone) {
      // The WebSocket session takes the connection over; this session ends here.
      std::make_shared<WebSocketSession>(std::move(stream_), endpoint, context_->room, context_->websocket, peer_)
          ->Run(request);
      return;
    }
  }
  RouteContext route{context_->name, context_->files, peer_};
  Reply(HandleHttp(request, route));
}

void HttpSession::Reply(Response response) {
  bool close = response.need_eof();
  response_ = std::make_shared<Response>(std::move(response));
  stream_.expires_after(kWriteTimeout);
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&HttpSession::OnWrite, shared_from_this(), close));
}

void HttpSession::ReplyError(unsigned status, std::string reason) {
  Response response;
  response.version(11);
  response.result(status);
  response.set(http::field::server, "pier-chat-backend");
  response.set("X-Backend", context_->name);
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.keep_alive(false);
  response.body() = std::move(reason) + "\n";
  response.prepare_payload();
  Reply(std::move(response));
}

void HttpSession::OnWrite(bool close, beast::error_code ec, std::size_t) {
  if (ec) {
    spdlog::debug("write to {} failed: {}", peer_, ec.message());
    return;
  }
  if (close) return DoClose();
  response_.reset();
  DoRead();
}

void HttpSession::DoClose() {
  beast::error_code ec;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  // Nothing to do about a failed shutdown: the peer is gone already.
}

}  // namespace pier::chat
