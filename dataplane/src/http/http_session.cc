#include "http/http_session.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "http/access_log.h"
#include "http/forwarded.h"
#include "http/hop_by_hop.h"
#include "http/read_head.h"
#include "http/request_target.h"
#include "upstream/canary.h"
#include "pier/common/match.h"
#include "pier/common/path_regex.h"
#include "websocket/handshake.h"

namespace pier::dataplane::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// How long a keep-alive connection may sit between requests before it is closed quietly.
constexpr std::chrono::seconds kClientIdleTimeout{60};
// First read of a request: the whole header usually arrives in one segment.
constexpr std::size_t kFirstReadBytes = 16 * 1024;
// After a response with Connection: close, unread input (an upload the proxy refused) is read
// and dropped for at most this long, so closing does not reset the connection before the
// client has read the response.
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kLingerReadBytes = 4096;
// Never written to a client: recorded when it went away before a response (nginx's 499).
constexpr unsigned kClientClosedRequest = 499;

bool IsClientGone(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::operation_aborted;
}

}  // namespace

HttpSession::HttpSession(Worker& worker, Socket socket, asio::ip::address peer, ConnectionGuard guard,
                         tls::ServerTls* server_tls)
    : worker_(worker),
      guard_(std::move(guard)),
      server_tls_(server_tls),
      client_(server_tls != nullptr ? tls::Stream(std::move(socket), server_tls->context())
                                    : tls::Stream(std::move(socket))),
      tls_(server_tls != nullptr),
      header_timer_(client_.get_executor()) {
  peer_ = peer;
  peer_text_ = FormatAddress(peer_);
  // TCP_NODELAY and keepalive came with the socket from the listener (listener.cc).
}

HttpSession::~HttpSession() { worker_.Unregister(this); }

void HttpSession::Start() {
  worker_.Register(this);
  if (worker_.server().options.proxy_protocol) {
    DoReadProxyHeader();
    return;
  }
  StartServing();
}

void HttpSession::StartServing() {
  if (server_tls_ != nullptr) {
    const auto config = worker_.server().config.Current();
    if (config && config->has_passthrough()) {
      DoReadClientHello();
      return;
    }
    DoHandshake();
    return;
  }
  DoReadRequest();
}

void HttpSession::DoReadProxyHeader() {
  // Like a request head: it gets --header-timeout, and a drain may close the connection.
  idle_ = true;
  reading_header_ = true;
  header_deadline_ = Clock::now() + worker_.server().options.header_timeout;
  if (header_timer_armed_for_ > header_deadline_) ArmHeaderTimer();
  client_.socket().async_wait(asio::socket_base::wait_read,
                              beast::bind_front_handler(&HttpSession::OnProxyReadable, shared_from_this()));
}

void HttpSession::OnProxyReadable(boost::system::error_code ec) {
  if (ec) {
    ProxyHeaderFailed(header_timed_out_ ? "no PROXY protocol header within --header-timeout" : ec.message(), ec);
    return;
  }
  // Peeked, not read: only the header's own bytes are taken off the socket, whatever follows it
  // in the same segment (a request, a TLS ClientHello) stays for the reader after it.
  const int fd = client_.socket().native_handle();
  std::array<char, kMaxProxyHeaderBytes> peeked;
  const ssize_t n = ::recv(fd, peeked.data(), peeked.size(), MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    client_.socket().async_wait(asio::socket_base::wait_read,
                                beast::bind_front_handler(&HttpSession::OnProxyReadable, shared_from_this()));
    return;
  }
  if (n <= 0) {
    ProxyHeaderFailed(n == 0 ? "closed before its PROXY protocol header" : std::strerror(errno));
    return;
  }
  const std::string_view bytes(peeked.data(), static_cast<std::size_t>(n));
  const ProxyHeader header = ParseProxyHeader(bytes);
  if (header.status == ProxyHeader::Status::kInvalid) {
    ProxyHeaderFailed(header.error);
    return;
  }
  // Done: take exactly the header. Need more: everything peeked belongs to the header so far.
  const std::size_t take = header.status == ProxyHeader::Status::kDone ? header.length : bytes.size();
  if (::recv(fd, peeked.data(), take, MSG_DONTWAIT) != static_cast<ssize_t>(take)) {
    ProxyHeaderFailed("the PROXY protocol header could not be read");
    return;
  }
  if (header.status == ProxyHeader::Status::kDone) {
    OnProxyHeader(header);
    return;
  }
  proxy_header_.assign(bytes);
  ReadMoreProxyHeader(header.more);
}

void HttpSession::ReadMoreProxyHeader(std::size_t more) {
  const std::size_t have = proxy_header_.size();
  proxy_header_.resize(have + more);
  asio::async_read(client_.socket(), asio::buffer(proxy_header_.data() + have, more),
                   beast::bind_front_handler(&HttpSession::OnProxyHeaderBytes, shared_from_this()));
}

void HttpSession::OnProxyHeaderBytes(boost::system::error_code ec, std::size_t) {
  if (ec) {
    ProxyHeaderFailed(header_timed_out_ ? "no PROXY protocol header within --header-timeout" : ec.message(), ec);
    return;
  }
  const ProxyHeader header = ParseProxyHeader(proxy_header_);
  switch (header.status) {
    case ProxyHeader::Status::kInvalid:
      ProxyHeaderFailed(header.error);
      return;
    case ProxyHeader::Status::kNeedMore:
      ReadMoreProxyHeader(header.more);
      return;
    case ProxyHeader::Status::kDone:
      // Read in pieces of exactly what was missing, so the header ends where the bytes do.
      if (header.length != proxy_header_.size()) {
        ProxyHeaderFailed("the PROXY protocol header could not be read");
        return;
      }
      OnProxyHeader(header);
      return;
  }
}

void HttpSession::OnProxyHeader(const ProxyHeader& header) {
  idle_ = false;
  reading_header_ = false;
  std::string().swap(proxy_header_);
  // The balancer's client: limits, access rules, logs and X-Forwarded-For see it, not the
  // balancer. A header that names no address (a health check) leaves the peer as it is.
  if (header.source) {
    peer_ = *header.source;
    peer_text_ = FormatAddress(peer_);
  }
  StartServing();
}

void HttpSession::ProxyHeaderFailed(std::string_view why, boost::system::error_code ec) {
  idle_ = false;
  reading_header_ = false;
  // A drain that closed the waiting connection is not the balancer's fault.
  const bool drained = ec == asio::error::operation_aborted && !header_timed_out_;
  if (!drained) ProxyMetrics::Get().rejected[static_cast<std::size_t>(Rejection::kProxyProtocol)]->Increment();
  // Debug, not warn: anyone who can reach the port can send garbage; the counter shows it.
  spdlog::debug("{}: PROXY protocol: {}; connection closed", peer_text_, why);
  boost::system::error_code ignored;
  client_.socket().close(ignored);
}

void HttpSession::DoHandshake() {
  // A handshake is like a request header: it gets --header-timeout, and a drain may cut it.
  idle_ = true;
  tls::ServerTls::Attach(client_.native_handle(), &handshake_);
  client_.expires_after(worker_.server().options.header_timeout);
  if (!client_hello_.empty()) {
    // The bytes read to find the SNI come first; the handshake reads on from the socket.
    client_.tls().async_handshake(asio::ssl::stream_base::server, asio::buffer(client_hello_),
                                  [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                                    std::string().swap(self->client_hello_);
                                    self->OnHandshake(ec);
                                  });
    return;
  }
  client_.tls().async_handshake(asio::ssl::stream_base::server,
                                beast::bind_front_handler(&HttpSession::OnHandshake, shared_from_this()));
}

void HttpSession::OnHandshake(boost::system::error_code ec) {
  idle_ = false;
  tls::ServerTls::Attach(client_.native_handle(), nullptr);
  tls::ServerTls::Count(ec, handshake_);
  if (ec) {
    spdlog::debug("{}: TLS handshake failed: {}", peer_text_, ec.message());
    boost::system::error_code ignored;
    client_.socket().close(ignored);
    return;
  }
  DoReadRequest();
}

void HttpSession::Drain() noexcept {
  // Only a connection between requests is closed now; one mid-request finishes first and then
  // sees the draining flag.
  if (idle_ && !handed_off_) {
    boost::system::error_code ignored;
    client_.socket().cancel(ignored);
  }
}

bool HttpSession::ClientMayKeepAlive() const {
  return exchange_.client_keep_alive && !exchange_.close_delimited && request_ && request_->is_done() &&
         !worker_.server().draining.load(std::memory_order_relaxed);
}

void HttpSession::DoReadRequest() {
  if (worker_.server().draining.load(std::memory_order_relaxed)) {
    DoClose();
    return;
  }
  exchange_ = Exchange{};
  request_.emplace();
  request_->header_limit(static_cast<std::uint32_t>(worker_.server().options.max_header_bytes));
  // The route decides the body limit once it is known (RouteRequest); until then none, or a
  // large Content-Length would fail before the route could say 413 with its own limit.
  request_->body_limit(kNoBodyLimit);
  if (client_buffer_.size() > 0) {  // pipelined: the next request is already here
    DoReadHeader();
    return;
  }
  idle_ = true;
  client_.expires_after(kClientIdleTimeout);
  client_.async_read_some(client_buffer_.prepare(kFirstReadBytes),
                          beast::bind_front_handler(&HttpSession::OnFirstBytes, shared_from_this()));
}

void HttpSession::OnFirstBytes(boost::system::error_code ec, std::size_t bytes) {
  idle_ = false;
  if (ec) {
    // Idle timeout, client closed, or drain: nothing was asked, nothing to answer.
    DoClose();
    return;
  }
  client_buffer_.commit(bytes);
  DoReadHeader();
}

void HttpSession::DoReadHeader() {
  client_.expires_never();
  header_timed_out_ = false;
  // Strict RFC 9112 checks on the raw head before Beast sees it (see head_validator.h).
  HeadLimits limits{.max_bytes = worker_.server().options.max_header_bytes};
  // The first read nearly always brings the whole head: it is parsed here and now, with no
  // header deadline to arm and no completion to post.
  std::size_t resume = 0;
  if (auto head = ParseBufferedHead(client_buffer_, *request_, limits, resume)) {
    OnHeader(head->ec, head->bytes);
    return;
  }
  // Absolute from the first byte: a client trickling a header (slowloris) gets 408 on time.
  reading_header_ = true;
  header_deadline_ = Clock::now() + worker_.server().options.header_timeout;
  if (header_timer_armed_for_ > header_deadline_) ArmHeaderTimer();
  AsyncReadHead(
      client_, client_buffer_, *request_, limits,
      beast::bind_front_handler(&HttpSession::OnHeader, shared_from_this()), resume);
}

void HttpSession::ArmHeaderTimer() {
  header_timer_armed_for_ = header_deadline_;
  header_timer_.expires_at(header_deadline_);  // cancels a later wait, which then just returns
  header_timer_.async_wait(beast::bind_front_handler(&HttpSession::OnHeaderDeadline, shared_from_this()));
}

void HttpSession::OnHeaderDeadline(boost::system::error_code ec) {
  if (ec) return;  // cancelled: re-armed earlier, or the connection closed
  header_timer_armed_for_ = Clock::time_point::max();
  if (!reading_header_) return;  // the next header read arms it again
  if (Clock::now() < header_deadline_) {
    ArmHeaderTimer();  // armed for an earlier request's header; this one has until its own deadline
    return;
  }
  header_timed_out_ = true;
  boost::system::error_code ignored;
  client_.socket().cancel(ignored);
}

void HttpSession::OnHeader(boost::system::error_code ec, std::size_t bytes) {
  reading_header_ = false;
  if (header_timed_out_) ec = beast::error::timeout;
  exchange_.started = Clock::now();
  exchange_.started_wall = std::chrono::system_clock::now();
  exchange_.bytes_in += bytes;
  exchange_.forwarded.client = peer_text_;
  if (ec == bhttp::error::header_limit) {
    SendError(431, "request header larger than " + std::to_string(worker_.server().options.max_header_bytes) + " bytes",
              true);
    return;
  }
  if (ec == beast::error::timeout) {
    SendError(408, "request header not received in time", true);
    return;
  }
  if (IsFramingError(ec)) {
    exchange_.bytes_in += client_buffer_.size();  // the refused head is still in the buffer
    Violation violation = ViolationOf(ec);
    SendError(RequestStatusFor(violation), "malformed request: " + std::string(ReasonFor(violation)), true);
    return;
  }
  if (ec && IsClientGone(ec)) {
    DoClose();
    return;
  }
  if (ec) {
    SendError(400, "malformed request: " + ec.message(), true);
    return;
  }

  auto& request = request_->get();
  exchange_.method = MethodOf(request.method());
  exchange_.method_text = std::string(request.method_string());
  exchange_.head = request.method() == bhttp::verb::head;
  exchange_.client_keep_alive = request_->keep_alive();
  exchange_.client_http11 = request.version() == 11;
  // Version, Host, Content-Length and Transfer-Encoding were checked on the raw head.
  RouteRequest();
}

void HttpSession::RouteRequest() {
  auto& request = request_->get();
  auto target = SplitRequestTarget(request.target());
  if (!target.authority.empty()) {
    request.set(bhttp::field::host, target.authority);
    request.target(target.origin);
  }
  exchange_.host = std::string(request[bhttp::field::host]);
  exchange_.path = std::move(target.path);

  // Everything that reads hop-by-hop headers happens before they are removed.
  exchange_.upgrade = websocket::IsUpgradeRequest(request);
  exchange_.expect_continue = HasToken(request[bhttp::field::expect], "100-continue");
  RemoveHopByHop(request);
  ForwardingContext forwarding{peer_, tls_, &worker_.server().trusted_proxies};
  exchange_.forwarded = ForwardRequest(request, forwarding, peer_text_);

  if (!CheckConnectionFitsHost()) return;
  auto config = worker_.server().config.Current();
  exchange_.route = config ? config->Match(exchange_.host, exchange_.path) : nullptr;
  if (exchange_.route && exchange_.route->canary) {
    // The canary route then decides everything else (its backend, its metrics labels).
    if (upstream::ChooseCanary(*exchange_.route, request, worker_.balancers())) exchange_.route = exchange_.route->canary;
  }
  exchange_.metrics = &worker_.metrics().For(exchange_.route);
  const auto& route = exchange_.route;
  if (!route) {
    SendError(404, "no route for host " + exchange_.host + " path " + exchange_.path);
    return;
  }
  if (route->passthrough_host && tls_) {
    // The host's backend ends its TLS itself; a connection whose handshake Pier did (no SNI, or
    // SNI for another host) must not reach it decrypted.
    const std::string host = match::NormalizeHost(exchange_.host);
    SendError(421, "host " + host + " passes TLS through to its backend; connect with SNI " + host);
    return;
  }
  if (route->unavailable_status != 0) {
    SendError(route->unavailable_status, route->unavailable_reason);
    return;
  }
  // Over TLS the certificate comes first, as nginx checks it before any location's rules; a
  // plain request is sent to HTTPS first, where it can present one.
  if (route->client_auth && tls_ && !CheckClientCertificate()) return;
  if (route->cipher_context && tls_ && !CheckHostCiphers()) return;
  if (RedirectByRoute()) return;
  exchange_.forwarded.upstream_host = route->proto.upstream_host();
  exchange_.forwarded.prefix = route->proto.forwarded_prefix();
  if (RedirectToHttps()) return;
  if (route->client_auth && !tls_ && !CheckClientCertificate()) return;
  // Decided before admission, so that a refusal (429, 403) reaches the page's script too.
  if (!exchange_.upgrade) {
    exchange_.cors = DecideCors(route->proto.cors(), request, request.method() == bhttp::verb::options);
  }
  if (!Admit(exchange_.forwarded.address)) return;
  if (exchange_.cors.preflight) {
    SendError(204, "CORS preflight answered for origin " + exchange_.cors.allow_origin);
    return;
  }
  if (exchange_.source_lets_in) {
    ServeRoute();  // satisfy any: the allowlist let the client in, no credentials asked
    return;
  }
  if (route->basic_auth && !Authenticate()) return;
  ServeAuthenticated();
}

void HttpSession::ServeRoute() {
  auto& request = request_->get();
  const auto& route = exchange_.route;
  if (exchange_.upgrade && !route->websocket_enabled) {
    exchange_.metrics->CountUpgrade(UpgradeResult::kDisabled);
    SendError(403, route->websocket_disabled_reason.empty() ? "websocket upgrades are disabled for this route"
                                                            : route->websocket_disabled_reason);
    return;
  }
  if (exchange_.upgrade && !request_->is_done()) {
    exchange_.metrics->CountUpgrade(UpgradeResult::kFailed);
    SendError(400, "websocket upgrade request must not have a body", true);
    return;
  }
  auto content_length = request_->content_length();
  if (route->max_body_bytes != 0) {
    if (content_length && *content_length > route->max_body_bytes) {
      SendError(413, "request body larger than " + std::to_string(route->max_body_bytes) + " bytes", true);
      return;
    }
    request_->body_limit(route->max_body_bytes);  // enforced by the parser for chunked bodies
  }
  if (!route->cluster || route->cluster->endpoints.empty()) {
    if (exchange_.upgrade) exchange_.metrics->CountUpgrade(UpgradeResult::kFailed);
    std::string service = route->cluster
                              ? route->cluster->service_namespace + "/" + route->cluster->service_name
                              : route->ingress_namespace + "/" + route->service;
    SendError(503, "no endpoints for service " + service);
    return;
  }
  if (route->error_route) exchange_.original_uri = std::string(request.target());
  if (!route->proto.rewrite_target().empty()) RewriteTarget();
  upstream::RequestKeys keys = upstream::ReadRequestKeys(route->proto, request, request.target(), exchange_.forwarded.client);
  keys.client_https = exchange_.forwarded.tls;
  exchange_.choice = worker_.balancers().Choose(*route, std::move(keys));
  if (!exchange_.choice.endpoint) {  // not with endpoints listed; kept so a balancer bug is a 503, not a crash
    SendError(503, "no endpoint available for service " + route->cluster->service_namespace + "/" +
                       route->cluster->service_name);
    return;
  }
  exchange_.endpoint = exchange_.choice.endpoint->address;
  exchange_.endpoint_id = exchange_.choice.endpoint->id;
  exchange_.tries = 1;
  if (route->next_upstream.time_limit.count() != 0) exchange_.first_try = Clock::now();
  DoAcquireUpstream();
}

void HttpSession::RewriteTarget() {
  auto& request = request_->get();
  const RouteConfig& route = *exchange_.route;
  std::string target;
  if (route.regex) {
    if (!route.regex->Rewrite(exchange_.path, route.proto.rewrite_target(), target)) return;  // it matched: never
  } else {
    const std::string_view whole = exchange_.path;  // an Exact path: $0 is all of it
    target = match::ExpandRewrite(route.proto.rewrite_target(), &whole, 1);
  }
  // As nginx's rewrite: the path is replaced, the query kept. The access log keeps the path
  // the client asked for.
  const std::string_view original = request.target();
  if (const auto query = original.find('?'); query != std::string_view::npos) target += original.substr(query);
  request.target(target);
}

bool HttpSession::Admit(const asio::ip::address& client) {
  const auto& request = request_->get();
  // Only an upgrade's Origin is judged; several Origin headers join into one that matches nothing.
  const std::string origin = exchange_.upgrade ? JoinedField(request, "Origin") : std::string();
  const RouteConfig& route = *exchange_.route;
  const bool satisfy_any = route.proto.satisfy_any() && (route.basic_auth || route.external_auth);
  auto admission = worker_.server().admission.Admit({route, client, exchange_.upgrade, origin, satisfy_any});
  if (!admission.refusal) {
    exchange_.lease = std::move(admission.lease);
    exchange_.source_lets_in = admission.source_lets_in;
    return true;
  }
  if (exchange_.upgrade) exchange_.metrics->CountUpgrade(UpgradeResult::kDisabled);
  exchange_.retry_after_s = admission.refusal->retry_after_s;
  SendError(admission.refusal->status, admission.refusal->message);
  return false;
}

void HttpSession::SendError(unsigned status, std::string_view reason, bool force_close) {
  bool keep_alive = !force_close && ClientMayKeepAlive();
  if (!keep_alive && request_ && !request_->is_done()) linger_on_close_ = true;
  exchange_.status = status;
  spdlog::debug("{} {} {}{}: {} {}", exchange_.forwarded.client, exchange_.method_text, exchange_.host, exchange_.path,
                status, reason);
  error_response_.emplace(MakeErrorResponse(status, reason, keep_alive, exchange_.head));
  if (exchange_.retry_after_s != 0) {
    error_response_->set(bhttp::field::retry_after, std::to_string(exchange_.retry_after_s));
  }
  if (!exchange_.location.empty()) error_response_->set(bhttp::field::location, exchange_.location);
  for (const std::string& challenge : exchange_.challenges) error_response_->insert(bhttp::field::www_authenticate, challenge);
  if (!exchange_.auth_cookies.empty()) AddAuthCookies(*error_response_, false);
  AddRouteHeaders(*error_response_);
  auto timeout = exchange_.route ? exchange_.route->send_timeout : worker_.server().options.header_timeout;
  client_.expires_after(timeout);
  bhttp::async_write(client_, *error_response_,
                     beast::bind_front_handler(&HttpSession::OnErrorWritten, shared_from_this(), keep_alive));
}

void HttpSession::OnErrorWritten(bool keep_alive, boost::system::error_code ec, std::size_t bytes) {
  exchange_.bytes_out += bytes;
  error_response_.reset();
  FinishExchange(keep_alive && !ec);
}

void HttpSession::LogExchange(double elapsed) {
  AccessRecord record;
  record.start = exchange_.started_wall;
  record.client = exchange_.forwarded.client;
  record.method = exchange_.method_text;
  record.host = exchange_.host;
  record.path = exchange_.path;
  record.status = exchange_.status;
  record.upstream = exchange_.endpoint_id;
  record.bytes_in = exchange_.bytes_in;
  record.bytes_out = exchange_.bytes_out;
  record.duration_ms = elapsed * 1000.0;
  record.route = exchange_.route ? std::string_view(exchange_.route->name) : std::string_view();
  record.request_id = exchange_.forwarded.request_id;
  record.user = exchange_.user;
  WriteAccessLog(record);
}

void HttpSession::FinishExchange(bool keep_alive) {
  if (exchange_.status == 0) exchange_.status = kClientClosedRequest;
  auto elapsed = std::chrono::duration<double>(Clock::now() - exchange_.started).count();
  RouteMetrics& metrics = exchange_.metrics ? *exchange_.metrics : worker_.metrics().For(nullptr);
  metrics.CountRequest(exchange_.status, exchange_.method);
  metrics.series().request_duration.Observe(elapsed);
  auto& totals = ProxyMetrics::Get();
  totals.bytes_in.Increment(static_cast<double>(exchange_.bytes_in));
  totals.bytes_out.Increment(static_cast<double>(exchange_.bytes_out));

  if (!exchange_.route || !exchange_.route->proto.access_log_off()) LogExchange(elapsed);

  response_.reset();
  request_.reset();
  body_buffer_.reset();
  body_buffer_size_ = 0;
  exchange_ = Exchange{};
  if (keep_alive) {
    DoReadRequest();
  } else {
    DoClose();
  }
}

void HttpSession::DoClose() {
  if (handed_off_) return;
  boost::system::error_code ignored;
  header_timer_.cancel();
  if (client_.is_tls()) {
    DoTlsShutdown();
    return;
  }
  client_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  if (!linger_on_close_ && client_buffer_.size() == 0) {
    client_.socket().close(ignored);
    return;
  }
  client_buffer_.clear();
  client_.expires_after(kLingerTimeout);
  DoLinger();
}

void HttpSession::DoLinger() {
  client_.async_read_some(client_buffer_.prepare(kLingerReadBytes),
                          beast::bind_front_handler(&HttpSession::OnLinger, shared_from_this()));
}

void HttpSession::OnLinger(boost::system::error_code ec, std::size_t bytes) {
  if (ec) {
    // The client closed its side, the linger time ran out, or the connection broke: all end it.
    boost::system::error_code ignored;
    client_.socket().close(ignored);
    return;
  }
  DoLinger();  // nothing was committed: the next read reuses the same scratch space
}

}  // namespace pier::dataplane::http
