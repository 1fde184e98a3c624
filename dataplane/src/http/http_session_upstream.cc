// The upstream half of HttpSession: connection, request relay, response relay, upgrade.
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include "http/hop_by_hop.h"
#include "http/http_session.h"
#include "http/read_head.h"
#include "http/set_cookie.h"
#include "listener/socket_options.h"
#include "websocket/handshake.h"
#include "websocket/tunnel.h"

namespace pier::dataplane::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// A route whose buffer_bytes is unset still gets a workable chunk.
constexpr std::size_t kMinBodyChunkBytes = 1024;
constexpr std::uint32_t kMaxUpstreamHeaderBytes = 64 * 1024;
constexpr std::size_t kMaxUpstreamHeaderFields = 256;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr unsigned kSwitchingProtocols = 101;

bool IsParseError(const boost::system::error_code& ec) {
  if (IsFramingError(ec)) return true;
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

bool IsBodyless(unsigned status, bool head) { return head || status / 100 == 1 || status == 204 || status == 304; }

// A new connection the upstream reset or closed before answering: the process behind it is
// dying or overloaded, which passive health treats like a failed connect. (On a reused
// connection the same errors usually mean a keep-alive race, retried on a fresh connection.)
// Not over TLS: there the endpoint has just completed a handshake, and a close right after it
// is how a TLS 1.3 server refuses what this cluster sent (a client certificate it does not
// accept, say), a matter of this Ingress' settings; the endpoint is shared with every other
// Ingress that reaches the same address, which must not lose it for that.
bool IsResetOnFreshConnection(const boost::system::error_code& ec, const upstream::UpstreamConnection& connection) {
  const bool reset = ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
                     ec == asio::error::eof || ec == bhttp::error::end_of_stream;
  return reset && connection.requests_served == 0 && !connection.stream.is_tls();
}

// The TLS layer's own failure after the handshake (an alert from the upstream such as
// "tlsv13 alert certificate required", a record that does not decrypt), named in the 502.
bool IsTlsError(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category();
}

}  // namespace

// A write the socket takes whole completes here, without a handler run of its own: a head, a
// small body, a 101. Heads and bodies were written with async_write alone, whose completion is
// queued and run after the next poll of the reactor even when the send finished at once.
template <class ConstBufferSequence>
void HttpSession::WriteThen(tls::Stream& stream, const ConstBufferSequence& buffers, WriteContinuation next) {
  boost::system::error_code ec;
  const std::size_t total = beast::buffer_bytes(buffers);
  const std::size_t sent = stream.write_some_now(buffers, ec);
  if (sent == total || (ec && ec != asio::error::would_block)) {
    (this->*next)(ec, sent);
    return;
  }
  beast::buffers_suffix<ConstBufferSequence> rest(buffers);
  rest.consume(sent);
  asio::async_write(stream, rest,
                    [self = shared_from_this(), next, sent](boost::system::error_code write_ec, std::size_t bytes) {
                      ((*self).*next)(write_ec, sent + bytes);
                    });
}

void HttpSession::EnsureBodyBuffer() {
  std::size_t size = std::max<std::size_t>(exchange_.route->buffer_bytes, kMinBodyChunkBytes);
  if (body_buffer_ && body_buffer_size_ == size) return;
  body_buffer_ = std::make_unique_for_overwrite<char[]>(size);  // only what a read fills is used
  body_buffer_size_ = size;
}

void HttpSession::DoAcquireUpstream() {
  PrepareUpstreamRequest();
  upstream_ = worker_.pool().Take(PoolKey(), PoolCheck());
  if (upstream_) {
    DoWriteRequestHeader();
    return;
  }
  DoConnect();
}

void HttpSession::DoConnect() {
  const tls::UpstreamTls& upstream_tls = exchange_.route->cluster->upstream_tls;
  if (!upstream_tls.context) {
    DoConnectAndSend();
    return;
  }
  upstream_ = std::make_shared<upstream::UpstreamConnection>(client_.get_executor(), *upstream_tls.context);
  upstream_->endpoint_id = PoolKey();
  upstream_->stream.expires_after(exchange_.route->connect_timeout);
  upstream_->stream.async_connect(
      exchange_.endpoint, [self = shared_from_this(), started = Clock::now()](boost::system::error_code ec) {
        self->OnConnect(started, ec);
      });
}

// A plain connection sends the request head with the connect (DeadlineSocket::connect_and_send):
// when the connection is up as connect() returns, as on a local network, the head goes out in
// the same handler, without a wait for writability or a handler run for the connect and for the
// write.
void HttpSession::DoConnectAndSend() {
  const auto started = Clock::now();
  upstream_ = std::make_shared<upstream::UpstreamConnection>(client_.get_executor());
  upstream_->endpoint_id = PoolKey();
  tls::DeadlineSocket& socket = upstream_->stream.plain();
  boost::system::error_code ec;
  socket.open_non_blocking(exchange_.endpoint.protocol(), ec);
  std::size_t sent = 0;
  if (!ec) {
    ApplyUpstreamSocketOptions();
    BuildRequestHead();
    sent = socket.connect_and_send(exchange_.endpoint, asio::buffer(request_head_), ec);
  }
  if (ec == asio::error::would_block) {
    upstream_->stream.expires_after(exchange_.route->connect_timeout);
    socket.async_wait_connected([self = shared_from_this(), started](boost::system::error_code wait_ec) {
      if (self->ConnectFailed(wait_ec)) return;
      self->ConnectSucceeded(started);
      self->DoWriteRequestHeader();
    });
    return;
  }
  if (ConnectFailed(ec)) return;
  exchange_.request_sent = true;  // the head went out with the connect
  ConnectSucceeded(started);
  if (sent == request_head_.size()) {
    OnWriteRequestHeader({}, sent);
    return;
  }
  upstream_->stream.expires_after(exchange_.route->send_timeout);
  asio::async_write(upstream_->stream, asio::buffer(request_head_) + sent,
                    beast::bind_front_handler(&HttpSession::OnWriteRequestHeader, shared_from_this()));
}

void HttpSession::OnConnect(Clock::time_point started, boost::system::error_code ec) {
  if (ConnectFailed(ec)) return;
  ConnectSucceeded(started);
  ApplyUpstreamSocketOptions();
  if (upstream_->stream.is_tls()) {
    DoUpstreamHandshake();
    return;
  }
  DoWriteRequestHeader();
}

// Not a byte of the request reached the upstream: another endpoint may get it.
bool HttpSession::ConnectFailed(boost::system::error_code ec) {
  if (!ec) return false;
  const bool timeout = ec == beast::error::timeout;
  const UpstreamError error = timeout                                   ? UpstreamError::kConnectTimeout
                              : ec == asio::error::connection_refused ? UpstreamError::kConnectRefused
                                                                      : UpstreamError::kConnectFailed;
  const std::string reason = timeout                                   ? "upstream connect timeout"
                             : error == UpstreamError::kConnectRefused ? "upstream connection refused"
                                                                       : "upstream connect failed: " + ec.message();
  NoteEndpointFailure();
  UpstreamFailed(error, timeout ? 504 : 502, reason);
  return true;
}

void HttpSession::ConnectSucceeded(Clock::time_point started) {
  worker_.balancers().ReportSuccess(exchange_.choice);
  exchange_.metrics->series().connect_duration.Observe(std::chrono::duration<double>(Clock::now() - started).count());
}

void HttpSession::ApplyUpstreamSocketOptions() {
  boost::system::error_code ignored;
  upstream_->stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  if (exchange_.upgrade) {
    upstream_->keepalive_pending = true;  // the tunnel sets it if it lives long enough
    return;
  }
  ApplyTcpKeepAlive(upstream_->stream.socket(), worker_.server().options.tcp_keepalive_idle);
}

void HttpSession::PrepareUpstreamRequest() {
  auto& request = request_->get();
  request.version(11);
  // A handshake's Connection and Upgrade are written with the head (AppendHead), not inserted.
  exchange_.forwarded.upgrade = exchange_.upgrade;
  // A handshake's framing stays as it came; an error page is asked without the body (the
  // client's went to the backend already).
  if (!exchange_.upgrade && !exchange_.error_page) {
    if (auto length = request_->content_length()) {
      NormaliseContentLength(request, *length);
    } else if (request_->chunked()) {
      request.chunked(true);
    }
  }
  // The proxy answered the expectation itself; the upstream gets the body without waiting.
  if (exchange_.expect_continue) request.erase(bhttp::field::expect);
}

void HttpSession::BuildRequestHead() {
  request_head_.clear();
  AppendHead(request_->get().base(), exchange_.forwarded, request_head_);
  request_body_.Reset(request_->chunked() && !exchange_.error_page);
}

void HttpSession::DoWriteRequestHeader() {
  exchange_.request_sent = true;
  BuildRequestHead();
  upstream_->stream.expires_after(exchange_.route->send_timeout);
  WriteThen(upstream_->stream, asio::buffer(request_head_), &HttpSession::OnWriteRequestHeader);
}

void HttpSession::OnWriteRequestHeader(boost::system::error_code ec, std::size_t) {
  if (ec) {
    if (RetryOnFreshConnection(ec)) return;
    if (IsResetOnFreshConnection(ec, *upstream_)) NoteEndpointFailure();
    bool timeout = ec == beast::error::timeout;
    UpstreamFailed(UpstreamError::kWriteFailed, timeout ? 504 : 502,
                   timeout            ? "upstream send timeout"
                   : IsTlsError(ec) ? "upstream TLS error: " + ec.message()
                                      : "upstream write failed: " + ec.message());
    return;
  }
  if (request_->is_done() || exchange_.error_page) {  // an error page is asked without the body
    DoReadResponseHeader();
    return;
  }
  if (exchange_.expect_continue) {
    client_.expires_after(exchange_.route->send_timeout);
    asio::async_write(client_, asio::buffer(kContinue.data(), kContinue.size()),
                      beast::bind_front_handler(&HttpSession::OnContinueSent, shared_from_this()));
    return;
  }
  DoReadRequestBody();
}

void HttpSession::OnContinueSent(boost::system::error_code ec, std::size_t bytes) {
  exchange_.bytes_out += bytes;
  if (ec) {
    Abort("client write failed: " + ec.message());
    return;
  }
  DoReadRequestBody();
}

void HttpSession::DoReadRequestBody() {
  EnsureBodyBuffer();
  auto& body = request_->get().body();
  body.data = body_buffer_.get();
  body.size = body_buffer_size_;
  client_.expires_after(exchange_.route->read_timeout);
  bhttp::async_read_some(client_, client_buffer_, *request_,
                         beast::bind_front_handler(&HttpSession::OnReadRequestBody, shared_from_this()));
}

void HttpSession::OnReadRequestBody(boost::system::error_code ec, std::size_t bytes) {
  exchange_.bytes_in += bytes;
  if (ec == bhttp::error::need_buffer) ec = {};  // the chunk buffer is full: send it on
  if (ec) {
    ReleaseUpstream(false);
    if (ec == bhttp::error::body_limit) {
      SendError(413, "request body larger than " + std::to_string(exchange_.route->max_body_bytes) + " bytes", true);
    } else if (ec == beast::error::timeout) {
      SendError(408, "request body not received in time", true);
    } else if (IsParseError(ec)) {
      SendError(400, "malformed request body: " + ec.message(), true);
    } else {
      Abort("client went away during the request body: " + ec.message());
    }
    return;
  }
  std::size_t size = body_buffer_size_ - request_->get().body().size;
  if (size == 0 && !request_->is_done()) {
    DoReadRequestBody();  // only framing (a chunk header) was read
    return;
  }
  DoWriteRequestBody(size);
}

void HttpSession::DoWriteRequestBody(std::size_t size) {
  upstream_->stream.expires_after(exchange_.route->send_timeout);
  WriteThen(upstream_->stream, request_body_.Frame({}, body_buffer_.get(), size, request_->is_done()),
            &HttpSession::OnWriteRequestBody);
}

void HttpSession::OnWriteRequestBody(boost::system::error_code ec, std::size_t) {
  if (ec) {
    bool timeout = ec == beast::error::timeout;
    UpstreamFailed(UpstreamError::kWriteFailed, timeout ? 504 : 502,
                   timeout ? "upstream send timeout" : "upstream write failed: " + ec.message());
    return;
  }
  if (request_->is_done()) {
    DoReadResponseHeader();
    return;
  }
  DoReadRequestBody();
}

void HttpSession::DoReadResponseHeader() {
  response_.emplace();
  response_->header_limit(kMaxUpstreamHeaderBytes);
  response_->body_limit(kNoBodyLimit);  // the upstream's body is streamed, never held
  if (exchange_.head) response_->skip(true);
  upstream_->stream.expires_after(exchange_.route->read_timeout);
  // A response head with bad framing fails as a parse error: 502, connection not reused.
  HeadLimits limits{.max_bytes = kMaxUpstreamHeaderBytes, .max_fields = kMaxUpstreamHeaderFields};
  AsyncReadHead(upstream_->stream, upstream_->buffer, *response_, limits,
                beast::bind_front_handler(&HttpSession::OnResponseHeader, shared_from_this()));
}

void HttpSession::OnResponseHeader(boost::system::error_code ec, std::size_t) {
  if (ec == beast::error::timeout) {
    UpstreamFailed(UpstreamError::kReadTimeout, 504, "upstream read timeout");
    return;
  }
  if (ec) {
    if (RetryOnFreshConnection(ec)) return;
    if (IsResetOnFreshConnection(ec, *upstream_)) NoteEndpointFailure();
    if (IsParseError(ec)) {
      UpstreamFailed(UpstreamError::kBadResponse, 502, "invalid upstream response: " + ec.message());
    } else if (IsTlsError(ec)) {
      UpstreamFailed(UpstreamError::kReadFailed, 502, "upstream TLS error: " + ec.message());
    } else {
      UpstreamFailed(UpstreamError::kReadFailed, 502, "upstream closed the connection before responding");
    }
    return;
  }
  unsigned status = response_->get().result_int();
  if (status == kSwitchingProtocols) {
    if (exchange_.upgrade) {
      HandleUpgradeResponse();
    } else {
      UpstreamFailed(UpstreamError::kBadResponse, 502, "upstream switched protocols without an upgrade request");
    }
    return;
  }
  if (status / 100 == 1) {
    // Interim responses (100, 102, 103) are dropped: the proxy handled Expect itself and an
    // HTTP/1.0 client must not see them. The final response follows on the same connection.
    DoReadResponseHeader();
    return;
  }
  if (exchange_.route->next_upstream.RetriesStatus(status) &&
      TryNextEndpoint(TryFailure::kStatus, "upstream answered " + std::to_string(status))) {
    return;
  }
  if (exchange_.upgrade) exchange_.metrics->CountUpgrade(UpgradeResult::kDeclined);
  if (WantsErrorPage(status) && FetchErrorPage(status)) return;
  exchange_.status = status;
  DoWriteResponseHeader();
}

bool HttpSession::WantsErrorPage(unsigned status) const {
  const RouteConfig* route = exchange_.route.get();
  return route != nullptr && route->error_route && !exchange_.upgrade && !exchange_.error_page &&
         std::binary_search(route->error_codes.begin(), route->error_codes.end(), status);
}

bool HttpSession::FetchErrorPage(unsigned status) {
  const RouteConfig& failed = *exchange_.route;
  upstream::Choice choice = worker_.balancers().Choose(*failed.error_route, {});
  if (!choice.endpoint) return false;
  // The backend's response is not read: its connection goes with it.
  ReleaseUpstream(false);
  exchange_.error_page = true;
  // A request whose body the backend did not take in full (its connection failed mid-body):
  // the rest is not read, so the client connection closes after the page, lingering.
  if (!request_->is_done()) linger_on_close_ = true;
  exchange_.retried = false;
  // The error pages' cluster gets its own tries.
  exchange_.tries = 1;
  if (failed.next_upstream.time_limit.count() != 0) exchange_.first_try = Clock::now();
  auto& request = request_->get();
  const std::string accept(request[bhttp::field::accept]);
  request.method(exchange_.head ? bhttp::verb::head : bhttp::verb::get);
  request.target("/");
  request.erase(bhttp::field::content_length);
  request.erase(bhttp::field::transfer_encoding);
  // What ingress-nginx tells its default backend; a client's own values never get through.
  request.set("X-Code", std::to_string(status));
  if (accept.empty()) {
    request.erase("X-Format");
  } else {
    request.set("X-Format", accept);
  }
  request.set("X-Original-URI", exchange_.original_uri);
  request.set("X-Namespace", failed.ingress_namespace);
  request.set("X-Ingress-Name", failed.ingress_name);
  request.set("X-Service-Name", failed.service);
  request.set("X-Service-Port", failed.proto.custom_http_errors().service_port());
  request.set("X-Request-ID", exchange_.forwarded.request_id);
  exchange_.matched_route = exchange_.route;  // keeps `failed` and the metrics it owns alive
  exchange_.route = failed.error_route;       // the metrics stay the route's own
  exchange_.choice = std::move(choice);
  exchange_.endpoint = exchange_.choice.endpoint->address;
  exchange_.endpoint_id = exchange_.choice.endpoint->id;
  DoAcquireUpstream();
  return true;
}

void HttpSession::HandleUpgradeResponse() {
  auto& response = response_->get();
  // The key as the upstream got it: the request stays until the tunnel starts.
  const std::string_view key = request_ ? request_->get()[bhttp::field::sec_websocket_key] : std::string_view();
  if (!websocket::AcceptMatches(key, response[bhttp::field::sec_websocket_accept])) {
    UpstreamFailed(UpstreamError::kInvalidAccept, 502, "upstream sent invalid Sec-WebSocket-Accept");
    return;
  }
  exchange_.status = kSwitchingProtocols;
  RemoveHopByHop(response);
  // As nginx, which treats a 101's fields like any response's (a backend may set its session
  // cookie with the upgrade).
  if (exchange_.route->proto.has_proxy_redirect()) RewriteRedirects(response);
  if (exchange_.route->proto.has_cookie_rewrite()) RewriteCookies(response);
  if (!exchange_.choice.set_cookie.empty()) response.insert(bhttp::field::set_cookie, exchange_.choice.set_cookie);
  if (!exchange_.auth_cookies.empty()) AddAuthCookies(response, true);
  response.version(11);
  response_head_.clear();
  AppendHead(response.base(), "Upgrade", "websocket", response_head_);
  client_.expires_after(exchange_.route->send_timeout);
  WriteThen(client_, asio::buffer(response_head_), &HttpSession::StartTunnel);
}

void HttpSession::StartTunnel(boost::system::error_code ec, std::size_t bytes) {
  exchange_.bytes_out += bytes;
  exchange_.response_started = true;
  if (ec) {
    exchange_.metrics->CountUpgrade(UpgradeResult::kFailed);
    Abort("client write failed: " + ec.message());
    return;
  }
  auto& metrics = *exchange_.metrics;
  metrics.CountUpgrade(UpgradeResult::kTunnelled);
  metrics.CountRequest(kSwitchingProtocols, exchange_.method);
  metrics.series().request_duration.Observe(std::chrono::duration<double>(Clock::now() - exchange_.started).count());
  auto& totals = ProxyMetrics::Get();
  totals.bytes_in.Increment(exchange_.bytes_in);
  totals.bytes_out.Increment(exchange_.bytes_out);

  // Bytes either side sent right behind the handshake are the tunnel's first bytes.
  auto client_data = client_buffer_.data();
  std::string client_pending(static_cast<const char*>(client_data.data()), client_data.size());
  auto upstream_data = upstream_->buffer.data();
  std::string upstream_pending(static_cast<const char*>(upstream_data.data()), upstream_data.size());

  websocket::TunnelIdentity identity;
  identity.client = std::move(exchange_.forwarded.client);
  identity.host = std::move(exchange_.host);
  identity.path = std::move(exchange_.path);
  identity.upstream = exchange_.endpoint_id;
  identity.request_id = std::move(exchange_.forwarded.request_id);
  identity.user = std::move(exchange_.user);
  identity.started_wall = exchange_.started_wall;
  identity.started = exchange_.started;
  identity.handshake_bytes_in = exchange_.bytes_in;
  identity.handshake_bytes_out = exchange_.bytes_out;
  identity.lease = std::move(exchange_.choice.lease);

  handed_off_ = true;
  // A lazily armed header wait holds this session; the tunnel does not need it any longer.
  header_timer_.cancel();
  guard_.HoldLease(std::move(exchange_.lease));
  auto tunnel = std::make_shared<websocket::Tunnel>(worker_, exchange_.route, metrics, std::move(guard_),
                                                    std::move(client_), std::move(upstream_->stream),
                                                    std::move(client_pending), std::move(upstream_pending),
                                                    std::move(identity));
  if (upstream_->keepalive_pending) tunnel->DeferUpstreamKeepAlive();
  upstream_.reset();
  response_.reset();
  request_.reset();
  body_buffer_.reset();
  tunnel->Start();
}

void HttpSession::RewriteRedirects(bhttp::fields& fields) const {
  const v1::ProxyRedirect& rule = exchange_.route->proto.proxy_redirect();
  const auto rewrite = [&](std::string_view url) -> std::optional<std::string> {
    if (!url.starts_with(rule.from())) return std::nullopt;
    std::string out = rule.to();
    out.append(url.substr(rule.from().size()));
    return out;
  };
  // Every Location and every Refresh in order, rewritten where the rule applies: a response
  // with two of a name keeps both, whichever of them changed.
  std::vector<std::string> locations;
  std::vector<std::string> refreshes;
  bool location_changed = false;
  bool refresh_changed = false;
  for (const auto& field : fields) {
    const std::string_view value = field.value();
    if (field.name() == bhttp::field::location) {
      auto url = rewrite(value);
      location_changed |= url.has_value();
      locations.push_back(url ? std::move(*url) : std::string(value));
    } else if (beast::iequals(field.name_string(), "Refresh")) {
      // "5; url=https://...": the URL right after the first "url=" (any case), as nginx finds it.
      std::string lower(value);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const std::size_t at = lower.find("url=");
      std::optional<std::string> url;
      if (at != std::string::npos) url = rewrite(value.substr(at + 4));
      refresh_changed |= url.has_value();
      refreshes.push_back(url ? std::string(value.substr(0, at + 4)) + *url : std::string(value));
    }
  }
  if (location_changed) {
    fields.erase(bhttp::field::location);
    for (const std::string& value : locations) fields.insert(bhttp::field::location, value);
  }
  if (refresh_changed) {
    fields.erase("Refresh");
    for (const std::string& value : refreshes) fields.insert("Refresh", value);
  }
}

void HttpSession::RewriteCookies(bhttp::fields& fields) const {
  const v1::CookieRewrite& rule = exchange_.route->proto.cookie_rewrite();
  std::vector<std::string> values;  // every Set-Cookie, in order, rewritten where a rule applied
  bool changed = false;
  for (const auto& field : fields) {
    if (field.name() != bhttp::field::set_cookie) continue;
    std::string value(field.value());
    if (auto rewritten = RewriteSetCookie(value, rule)) {
      value = std::move(*rewritten);
      changed = true;
    }
    values.push_back(std::move(value));
  }
  if (!changed) return;
  fields.erase(bhttp::field::set_cookie);
  for (const std::string& value : values) fields.insert(bhttp::field::set_cookie, value);
}

void HttpSession::DoWriteResponseHeader() {
  auto& response = response_->get();
  RemoveHopByHop(response);
  if (exchange_.route->proto.has_proxy_redirect()) RewriteRedirects(response);
  if (exchange_.route->proto.has_cookie_rewrite()) RewriteCookies(response);
  if (!exchange_.choice.set_cookie.empty()) response.insert(bhttp::field::set_cookie, exchange_.choice.set_cookie);
  if (!exchange_.auth_cookies.empty()) AddAuthCookies(response, true);
  response.version(11);
  AddRouteHeaders(response);
  exchange_.response_bodyless = IsBodyless(exchange_.status, exchange_.head);
  bool chunked = false;
  if (!exchange_.response_bodyless) {
    if (auto length = response_->content_length()) {
      NormaliseContentLength(response, *length);
    } else if (exchange_.client_http11) {
      response.chunked(true);
      chunked = true;
    } else {
      exchange_.close_delimited = true;  // HTTP/1.0 has no chunked: the end of the body is the close
    }
  }
  response_head_.clear();
  AppendHead(response.base(), ClientMayKeepAlive() ? "keep-alive" : "close", response_head_);
  response_body_.Reset(chunked);
  response_head_pending_ = true;
  // A small body usually arrives with its header: parsing it first sends header and body in
  // one write instead of two. Only when body bytes are already here, so a streaming response
  // (SSE, long polls) never has its header held back waiting for the upstream.
  // Under limit-rate the head and that first piece of body are paced together.
  if (!exchange_.response_bodyless && upstream_->buffer.size() != 0) {
    ContinueResponseBody();
    return;
  }
  response_head_pending_ = false;
  client_.expires_after(exchange_.route->send_timeout);
  WriteThen(client_, asio::buffer(response_head_), &HttpSession::OnWriteResponseHeader);
}

void HttpSession::OnWriteResponseHeader(boost::system::error_code ec, std::size_t bytes) {
  exchange_.bytes_out += bytes;
  exchange_.response_started = true;
  if (ec) {
    Abort("client write failed: " + ec.message());
    return;
  }
  if (exchange_.response_bodyless) {
    CompleteResponse();
    return;
  }
  if (response_->is_done()) {
    DoWriteResponseBody(0);  // ends the body (a last chunk when chunked)
    return;
  }
  ContinueResponseBody();
}

void HttpSession::ContinueResponseBody() {
  const uint64_t rate = exchange_.route->proto.limit_rate_bytes_per_s();
  if (rate == 0) {
    DoReadResponseBody();
    return;
  }
  // nginx's limit_rate: by now the client may have had limit_rate_after bytes, plus one second's
  // worth, plus the rate times the time since the request came. A head held back to go out with
  // the body's first piece counts as sent: it shares that write.
  const double elapsed = std::chrono::duration<double>(Clock::now() - exchange_.started).count();
  const double allowed = static_cast<double>(exchange_.route->proto.limit_rate_after_bytes()) +
                         static_cast<double>(rate) * (elapsed + 1.0);
  const auto sent = static_cast<double>(exchange_.bytes_out + (response_head_pending_ ? response_head_.size() : 0));
  // Whole bytes only: a fraction of one waits until the byte is due.
  const double allowance = allowed - sent;
  if (allowance >= 1.0) {
    DoReadResponseBody(static_cast<std::size_t>(std::min(allowance, 1e15)));
    return;
  }
  PauseThenContinue(std::chrono::duration<double>((1.0 - allowance) / static_cast<double>(rate) + 0.001));
}

void HttpSession::DoReadResponseBody(std::size_t at_most) {
  EnsureBodyBuffer();
  auto& body = response_->get().body();
  body.data = body_buffer_.get();
  body.size = body_read_size_ = std::min<std::size_t>(body_buffer_size_, at_most);
  upstream_->stream.expires_after(exchange_.route->read_timeout);
  bhttp::async_read_some(upstream_->stream, upstream_->buffer, *response_,
                         beast::bind_front_handler(&HttpSession::OnReadResponseBody, shared_from_this()));
}

void HttpSession::OnReadResponseBody(boost::system::error_code ec, std::size_t) {
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) {
    // Once the header is with the client, all that is left is to cut the connection so the
    // client sees a truncated response rather than a complete-looking one.
    UpstreamError error = ec == beast::error::timeout ? UpstreamError::kReadTimeout
                          : IsParseError(ec)           ? UpstreamError::kBadResponse
                                                       : UpstreamError::kReadFailed;
    if (!exchange_.response_started) {  // the header was held back with the body: still a clean error
      UpstreamFailed(error, error == UpstreamError::kReadTimeout ? 504 : 502, "upstream response body: " + ec.message());
      return;
    }
    exchange_.metrics->CountUpstreamError(error);
    spdlog::warn("upstream {} failed mid-response for {}{}: {}", exchange_.endpoint_id, exchange_.host,
                 exchange_.path, ec.message());
    Abort("upstream failed mid-response");
    return;
  }
  std::size_t size = body_read_size_ - response_->get().body().size;
  if (size == 0 && !response_->is_done()) {
    ContinueResponseBody();
    return;
  }
  DoWriteResponseBody(size);
}

void HttpSession::DoWriteResponseBody(std::size_t size) {
  std::string_view head = response_head_pending_ ? std::string_view(response_head_) : std::string_view();
  response_head_pending_ = false;
  client_.expires_after(exchange_.route->send_timeout);
  WriteThen(client_, response_body_.Frame(head, body_buffer_.get(), size, response_->is_done()),
            &HttpSession::OnWriteResponseBody);
}

void HttpSession::OnWriteResponseBody(boost::system::error_code ec, std::size_t bytes) {
  exchange_.bytes_out += bytes;
  exchange_.response_started = true;  // the header may have gone out with this first body write
  if (ec) {
    Abort("client write failed: " + ec.message());
    return;
  }
  if (response_->is_done()) {
    CompleteResponse();
    return;
  }
  // nginx's write filter also waits, after each write, for the bytes past limit-rate-after it
  // just sent to be due at the rate: the one second's head start is taken back at once.
  const uint64_t rate = exchange_.route->proto.limit_rate_bytes_per_s();
  const uint64_t after = exchange_.route->proto.limit_rate_after_bytes();
  const uint64_t before = exchange_.bytes_out - bytes;
  const uint64_t paced = exchange_.bytes_out > std::max(before, after) ? exchange_.bytes_out - std::max(before, after) : 0;
  if (rate != 0 && paced != 0) {
    PauseThenContinue(std::chrono::duration<double>(static_cast<double>(paced) / static_cast<double>(rate)));
    return;
  }
  ContinueResponseBody();
}

void HttpSession::PauseThenContinue(std::chrono::duration<double> pause) {
  if (!rate_timer_) rate_timer_ = std::make_unique<SteadyTimer>(client_.get_executor());
  rate_timer_->expires_after(std::chrono::duration_cast<Clock::duration>(pause));
  rate_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;  // the session is going away
    self->ContinueResponseBody();
  });
}

void HttpSession::CompleteResponse() {
  bool reusable = response_->is_done() && response_->keep_alive() && request_->is_done() &&
                  upstream_->buffer.size() == 0;
  ReleaseUpstream(reusable);
  FinishExchange(ClientMayKeepAlive());
}

bool HttpSession::RetryOnFreshConnection(boost::system::error_code ec) {
  // A pooled connection the upstream closed just as it was reused fails like this; the request
  // never reached the application, so sending it again on a new connection is safe. Only
  // without a body: a body already streamed from the client cannot be replayed.
  bool stale = ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
               ec == asio::error::broken_pipe;
  if (!stale || !CanReplayOnFreshConnection() || !upstream_ || upstream_->requests_served == 0) return false;
  if (response_ && response_->got_some()) return false;
  exchange_.retried = true;
  exchange_.metrics->CountRetry(UpstreamRetry::kStaleConnection);
  ReleaseUpstream(false);
  DoConnect();
  return true;
}

bool HttpSession::CanReplayOnFreshConnection() const {
  if (exchange_.retried) return false;
  return exchange_.error_page || (request_->content_length().value_or(0) == 0 && !request_->chunked());
}

upstream::ConnectionPool::Check HttpSession::PoolCheck() const {
  // A request that can go out again needs no peek at the parked socket: if the upstream closed
  // it, the first read or write says so and RetryOnFreshConnection sends the request anew.
  return CanReplayOnFreshConnection() ? upstream::ConnectionPool::Check::kTrustWatch
                                      : upstream::ConnectionPool::Check::kPeek;
}

HttpSession::TryFailure HttpSession::TryFailureOf(UpstreamError error, unsigned status) {
  switch (error) {
    case UpstreamError::kConnectTimeout:
    case UpstreamError::kReadTimeout:
      return TryFailure::kTimeout;
    case UpstreamError::kWriteFailed:
      return status == 504 ? TryFailure::kTimeout : TryFailure::kError;
    case UpstreamError::kBadResponse:
    case UpstreamError::kInvalidAccept:
      return TryFailure::kInvalidHeader;
    default:
      return TryFailure::kError;
  }
}

bool HttpSession::CanSendAgain() const {
  // The body went out as it came in and is not kept, so it cannot go out again.
  if (!exchange_.error_page && (request_->content_length().value_or(0) != 0 || request_->chunked())) return false;
  if (exchange_.route->next_upstream.non_idempotent) return true;
  const bhttp::verb method = request_->get().method();
  return method != bhttp::verb::post && method != bhttp::verb::patch && method != bhttp::verb::lock;
}

bool HttpSession::MayTryNextEndpoint(TryFailure failure) const {
  if (exchange_.response_started || !exchange_.route) return false;
  const NextUpstreamPolicy& policy = exchange_.route->next_upstream;
  const bool wanted = failure == TryFailure::kError           ? policy.error
                      : failure == TryFailure::kTimeout       ? policy.timeout
                      : failure == TryFailure::kInvalidHeader ? policy.invalid_header
                                                              : true;  // the caller matched the status
  if (!wanted) return false;
  // As nginx: errors and timeouts count until the response head is in, not in its body.
  const bool head_in = response_ && response_->is_header_done();
  if (head_in && (failure == TryFailure::kError || failure == TryFailure::kTimeout)) return false;
  if (policy.tries != 0 && exchange_.tries >= policy.tries) return false;
  if (policy.time_limit.count() != 0 && Clock::now() - exchange_.first_try >= policy.time_limit) return false;
  // A failed connect sent nothing: any request may go on, body and method notwithstanding.
  return !exchange_.request_sent || CanSendAgain();
}

bool HttpSession::TryNextEndpoint(TryFailure failure, std::string_view reason) {
  if (!MayTryNextEndpoint(failure)) return false;
  upstream::Choice next = worker_.balancers().ChooseAgain(*exchange_.route, exchange_.choice);
  if (!next.endpoint) return false;  // every endpoint was tried
  ++exchange_.tries;
  exchange_.metrics->CountRetry(UpstreamRetry::kNextEndpoint);
  spdlog::warn("upstream {} for {}{} ({}): {}; trying {} (try {})", exchange_.endpoint_id, exchange_.host,
               exchange_.path, exchange_.route->name, reason, next.endpoint->id, exchange_.tries);
  ReleaseUpstream(false);
  response_.reset();  // the failed try's answer, if any, is dropped unread
  exchange_.choice = std::move(next);
  exchange_.endpoint = exchange_.choice.endpoint->address;
  exchange_.endpoint_id = exchange_.choice.endpoint->id;
  exchange_.request_sent = false;
  exchange_.retried = false;  // the new endpoint's pooled connection may be stale too
  upstream_ = worker_.pool().Take(PoolKey(), PoolCheck());
  if (upstream_) {
    DoWriteRequestHeader();
  } else {
    DoConnect();
  }
  return true;
}

void HttpSession::NoteEndpointFailure() {
  if (!worker_.balancers().ReportFailure(exchange_.choice)) return;
  exchange_.metrics->CountEjection();
  spdlog::info("upstream {} of {} ejected by passive health", exchange_.endpoint_id,
               exchange_.route ? exchange_.route->service : "");
}

void HttpSession::UpstreamFailed(UpstreamError error, unsigned status, std::string_view reason) {
  exchange_.metrics->CountUpstreamError(error);
  if (TryNextEndpoint(TryFailureOf(error, status), reason)) return;
  if (exchange_.upgrade) {
    exchange_.metrics->CountUpgrade(error == UpstreamError::kInvalidAccept ? UpgradeResult::kInvalidAccept
                                                                           : UpgradeResult::kFailed);
  }
  spdlog::warn("upstream {} for {}{} ({}): {}", exchange_.endpoint_id, exchange_.host, exchange_.path,
               exchange_.route ? exchange_.route->name : "", reason);
  ReleaseUpstream(false);
  if (exchange_.response_started) {
    Abort(reason);
    return;
  }
  if (WantsErrorPage(status) && FetchErrorPage(status)) return;
  SendError(status, reason);
}

void HttpSession::Abort(std::string_view why) {
  spdlog::debug("{} {} {}{}: aborted: {}", exchange_.forwarded.client, exchange_.method_text, exchange_.host,
                exchange_.path, why);
  ReleaseUpstream(false);
  FinishExchange(false);
}

void HttpSession::ReleaseUpstream(bool reusable) {
  if (!upstream_) return;
  if (reusable && !worker_.server().draining.load(std::memory_order_relaxed)) {
    ++upstream_->requests_served;
    if (std::exchange(upstream_->keepalive_pending, false)) {
      // An upgrade the upstream declined: the connection serves plain requests from now on.
      ApplyTcpKeepAlive(upstream_->stream.socket(), worker_.server().options.tcp_keepalive_idle);
    }
    worker_.pool().Put(std::move(upstream_));
  } else {
    boost::system::error_code ignored;
    upstream_->stream.socket().close(ignored);
  }
  upstream_.reset();
}

}  // namespace pier::dataplane::http
