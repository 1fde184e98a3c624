// One client connection speaking HTTP/1.x: reads requests in order (keep-alive, pipelining),
// routes each with the current Config, forwards it to an upstream endpoint over a pooled
// connection and streams the response back through a bounded buffer. A verified WebSocket
// upgrade hands both sockets to a websocket::Tunnel.
//
// Stages of one exchange, each a do_x/on_x pair, strictly sequential (one async operation at
// a time, so the body buffer is the only backpressure needed):
//   read header -> route -> [connect] -> write request header -> [100 Continue]
//   -> relay request body -> read response header -> write response header
//   -> relay response body -> next request | close | tunnel.
// The client-facing half lives in http_session.cc, the upstream half in http_session_upstream.cc.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/optional.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/cors.h"
#include "http/error_response.h"
#include "http/message_writer.h"
#include "http/proxy_metrics.h"
#include "http/proxy_protocol.h"
#include "limits/connection_limiter.h"
#include "listener/worker.h"
#include "routing/config.h"
#include "tls/server_tls.h"
#include "tls/stream.h"
#include "upstream/balancer.h"
#include "upstream/connection_pool.h"
#include "upstream/upstream_connection.h"

namespace pier::dataplane::http {

class HttpSession final : public std::enable_shared_from_this<HttpSession>, public Drainable {
 public:
  // server_tls: the HTTPS listener's TLS (the session starts with a handshake), or null.
  // peer: the client's address as accept() returned it.
  HttpSession(Worker& worker, Socket socket, boost::asio::ip::address peer, ConnectionGuard guard,
              tls::ServerTls* server_tls);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void Start();
  // Idle keep-alive connections close now; a request in flight finishes with Connection: close.
  void Drain() noexcept override;

 private:
  using Body = boost::beast::http::buffer_body;
  using RequestParser = boost::beast::http::request_parser<Body>;
  using ResponseParser = boost::beast::http::response_parser<Body>;

  // "No limit" for Beast 1.74 parsers: boost::none compares below every length there, so an
  // unset limit would reject any body with a Content-Length.
  static constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();

  // Everything about the request being served; reset before the next one.
  struct Exchange {
    std::chrono::steady_clock::time_point started;
    std::chrono::system_clock::time_point started_wall;
    std::shared_ptr<const RouteConfig> route;
    RouteMetrics* metrics = nullptr;
    Method method = Method::kOther;
    std::string method_text;
    std::string host;
    std::string path;
    // The client, its request ID and the forwarding fields the upstream gets (ForwardRequest);
    // before routing only `client` is set (the peer).
    ForwardedRequest forwarded;
    boost::asio::ip::tcp::endpoint endpoint;
    std::string endpoint_id;
    upstream::Choice choice;  // how endpoint was chosen: its lease, cookie to set, retry state
    bool head = false;
    bool client_keep_alive = false;
    bool client_http11 = false;
    bool upgrade = false;
    bool expect_continue = false;
    bool retried = false;         // sent again on a fresh connection to the same endpoint
    uint32_t tries = 0;           // endpoints tried (proxy-next-upstream counts them)
    bool request_sent = false;    // bytes of the request went to the current endpoint
    std::chrono::steady_clock::time_point first_try;  // only with a next-upstream time limit
    bool response_started = false;  // bytes of the response reached the client: no error page now
    bool error_page = false;        // custom-http-errors: the request now asks the error pages' cluster
    std::string original_uri;       // the target before rewrite-target (only with custom-http-errors)
    // While `route` is the error route: the route the request matched, held so that `metrics`
    // (which lives as long as that route does) stays valid across a config change.
    std::shared_ptr<const RouteConfig> matched_route;
    bool response_bodyless = false;
    bool close_delimited = false;  // HTTP/1.0 client, unknown length: the close ends the body
    unsigned status = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    uint32_t retry_after_s = 0;      // > 0: the error response carries Retry-After
    std::string location;            // the response is a redirect to here
    std::vector<std::string> challenges;  // a 401's WWW-Authenticate values
    std::vector<std::string> auth_cookies;  // auth-url's Set-Cookie values for the client
    std::string user;                // the user basic authentication let in (access log)
    CorsAnswer cors;                 // the route's CORS headers for this request (enable-cors)
    std::string client_certificate;  // auth-tls-*: the ssl-client-* lines (forwarded points here)
    bool source_lets_in = false;     // satisfy any: the allowlist admitted the client, no credentials
    // satisfy any with basic authentication and auth-url: the credentials were refused, the
    // auth service may still let the client in (nginx's satisfy any takes either).
    bool basic_refused = false;
    limits::ConnectionLease lease;  // the route's connection counts, held until the exchange ends
  };

  // Client side (http_session.cc).
  // --proxy-protocol: the load balancer's header comes first, then TLS or the first request.
  void DoReadProxyHeader();
  void OnProxyReadable(boost::system::error_code ec);
  void ReadMoreProxyHeader(std::size_t more);
  void OnProxyHeaderBytes(boost::system::error_code ec, std::size_t bytes);
  void OnProxyHeader(const ProxyHeader& header);
  // Counts and closes; `ec`: the failed wait or read, if that is what ended it.
  void ProxyHeaderFailed(std::string_view why, boost::system::error_code ec = {});
  void StartServing();
  // ssl-passthrough (http_session_tls.cc): while some host passes TLS through, a TLS connection
  // is read up to the end of its ClientHello first; one whose SNI names such a host goes to a
  // tls::Passthrough, any other to the handshake with the bytes read so far.
  void DoReadClientHello();
  void OnClientHelloBytes(boost::system::error_code ec, std::size_t bytes);
  void PassThrough(std::shared_ptr<const RouteConfig> route, std::string server_name);
  void DoHandshake();
  void OnHandshake(boost::system::error_code ec);
  void DoReadRequest();
  void OnFirstBytes(boost::system::error_code ec, std::size_t bytes);
  void DoReadHeader();
  void OnHeader(boost::system::error_code ec, std::size_t bytes);
  void RouteRequest();
  bool Admit(const boost::asio::ip::address& client);  // false: refused, the answer is on its way
  // auth-type basic (http_session_auth.cc): true when the request may go on now; false when it
  // was answered (401, 503) or its password is being checked off this thread (OnPasswordChecked
  // goes on then).
  bool Authenticate();
  void OnPasswordChecked(bool ok, std::string user, std::string password);
  void RefuseCredentials(basic_auth::Outcome outcome, std::string_view why);
  // After basic authentication: auth-url's check when the route has one, then ServeRoute.
  void ServeAuthenticated();
  // satisfy any with basic authentication and auth-url: either one lets the client in.
  bool EitherAuthenticationEnough() const;
  void OnAuthServiceAnswer(external_auth::Answer answer);
  // auth-cache-key: where the auth service's answer for this request is kept (a SHA-256).
  std::string AuthCacheKey(const external_auth::Settings& settings) const;
  // The variant of a kept answer that varies by these request headers (a SHA-256).
  std::string AuthVaryDigest(const std::vector<std::string>& names) const;
  // The auth service's Set-Cookie values: on the backend's responses with a status nginx's
  // add_header takes, on every response with auth-always-set-cookie.
  void AddAuthCookies(boost::beast::http::fields& fields, bool from_backend) const;
  // The routed request from its route's own checks on (limits, authentication and CORS passed).
  void ServeRoute();
  // rewrite-target: the request target the upstream gets.
  void RewriteTarget();
  // TLS rules of the routed request (http_session_tls.cc): false when answered already (421,
  // a redirect to https).
  bool CheckConnectionFitsHost();
  // auth-tls-* (the route's host has a ClientAuthPolicy): true when the request may go on, with
  // the ssl-client-* fields for the upstream (and an auth-url service) set; false when it was
  // answered (400, 302, 421).
  bool CheckClientCertificate();
  // ssl-ciphers (the route's host has its own cipher list): true when this TLS connection's
  // handshake was made under it; false when answered 421.
  bool CheckHostCiphers();
  // permanent-redirect, temporal-redirect, app-root: true when the route answered.
  bool RedirectByRoute();
  bool RedirectToHttps();
  void AddStrictTransportSecurity(boost::beast::http::fields& fields) const;
  // HSTS and CORS: what the route adds to every response, the backend's or Pier's own.
  void AddRouteHeaders(boost::beast::http::fields& fields) const;
  void DoTlsShutdown();
  void SendError(unsigned status, std::string_view reason, bool force_close = false);
  void OnErrorWritten(bool keep_alive, boost::system::error_code ec, std::size_t bytes);
  void ArmHeaderTimer();
  void OnHeaderDeadline(boost::system::error_code ec);
  // The access log line of the exchange that ends (unless its route turned the log off).
  void LogExchange(double elapsed);
  void FinishExchange(bool keep_alive);
  void DoClose();
  void DoLinger();
  void OnLinger(boost::system::error_code ec, std::size_t bytes);
  bool ClientMayKeepAlive() const;

  // Upstream side (http_session_upstream.cc).
  void DoAcquireUpstream();
  void DoConnect();
  void DoConnectAndSend();
  void OnConnect(std::chrono::steady_clock::time_point started, boost::system::error_code ec);
  bool ConnectFailed(boost::system::error_code ec);
  void ConnectSucceeded(std::chrono::steady_clock::time_point started);
  void ApplyUpstreamSocketOptions();
  void BuildRequestHead();
  void DoUpstreamHandshake();
  void OnUpstreamHandshake(boost::system::error_code ec);
  std::string PoolKey() const;
  void PrepareUpstreamRequest();
  void DoWriteRequestHeader();
  void OnWriteRequestHeader(boost::system::error_code ec, std::size_t bytes);
  void OnContinueSent(boost::system::error_code ec, std::size_t bytes);
  void DoReadRequestBody();
  void OnReadRequestBody(boost::system::error_code ec, std::size_t bytes);
  void DoWriteRequestBody(std::size_t size);
  void OnWriteRequestBody(boost::system::error_code ec, std::size_t bytes);
  void DoReadResponseHeader();
  void OnResponseHeader(boost::system::error_code ec, std::size_t bytes);
  void HandleUpgradeResponse();
  // proxy-redirect-from/-to on the backend's Location and Refresh headers.
  void RewriteRedirects(boost::beast::http::fields& fields) const;
  // proxy-cookie-domain/-path on the response's Set-Cookie fields, as nginx rewrites them.
  void RewriteCookies(boost::beast::http::fields& fields) const;
  // custom-http-errors: the backend answered `status`, or failed so that Pier would answer it
  // (502, 504); the backend's response (if any) is dropped and the route's error_route asked
  // instead. False: the error route has no endpoint, the response or error stands.
  bool FetchErrorPage(unsigned status);
  // custom-http-errors lists `status` for this request's route, and no error page was asked yet.
  bool WantsErrorPage(unsigned status) const;
  void DoWriteResponseHeader();
  void OnWriteResponseHeader(boost::system::error_code ec, std::size_t bytes);
  // The next read of the response body, or first a wait when limit-rate says the client has had
  // its share for now.
  void ContinueResponseBody();
  void PauseThenContinue(std::chrono::duration<double> pause);
  void DoReadResponseBody(std::size_t at_most = std::numeric_limits<std::size_t>::max());
  void OnReadResponseBody(boost::system::error_code ec, std::size_t bytes);
  void DoWriteResponseBody(std::size_t size);
  void OnWriteResponseBody(boost::system::error_code ec, std::size_t bytes);
  void CompleteResponse();
  void StartTunnel(boost::system::error_code ec, std::size_t bytes);
  using WriteContinuation = void (HttpSession::*)(boost::system::error_code, std::size_t);
  // Writes all of `buffers` to `stream` and then runs `next` with the bytes written: in this
  // handler when the socket takes everything at once (a plain socket with room, the usual case),
  // otherwise once async_write has written the rest.
  template <class ConstBufferSequence>
  void WriteThen(tls::Stream& stream, const ConstBufferSequence& buffers, WriteContinuation next);
  bool RetryOnFreshConnection(boost::system::error_code ec);
  // No body and not sent again already: a failure on a reused connection can be retried.
  bool CanReplayOnFreshConnection() const;
  upstream::ConnectionPool::Check PoolCheck() const;
  // proxy-next-upstream: which kind of failure a try ended with.
  enum class TryFailure : uint8_t { kError, kTimeout, kInvalidHeader, kStatus };
  static TryFailure TryFailureOf(UpstreamError error, unsigned status);
  // Sends the request to an endpoint it has not tried when the route's next-upstream policy
  // allows it after `failure`; false (nothing done) otherwise.
  bool TryNextEndpoint(TryFailure failure, std::string_view reason);
  bool MayTryNextEndpoint(TryFailure failure) const;
  // A request that reached an endpoint may reach another: no body, idempotent or allowed.
  bool CanSendAgain() const;
  void NoteEndpointFailure();
  void UpstreamFailed(UpstreamError error, unsigned status, std::string_view reason);
  void Abort(std::string_view why);
  void ReleaseUpstream(bool reusable);
  void EnsureBodyBuffer();

  Worker& worker_;
  ConnectionGuard guard_;
  tls::ServerTls* server_tls_;  // null on the plain listener
  tls::HandshakeInfo handshake_;  // what the TLS handshake presented
  tls::Stream client_;
  boost::beast::flat_buffer client_buffer_;
  boost::asio::ip::address peer_;
  std::string peer_text_;  // FormatAddress(peer_), once per connection rather than per request
  const bool tls_;
  bool idle_ = false;     // waiting for the first byte of a request: safe to close on drain
  bool handed_off_ = false;  // the sockets belong to a tunnel now
  // The stream's own timeout closes the socket, which would leave no way to answer 408; the
  // header deadline is a separate timer that only cancels the read. It is armed lazily, as
  // tls::DeadlineSocket's is: a keep-alive connection re-arms it about once per header timeout,
  // not once per request.
  SteadyTimer header_timer_;
  // limit-rate's pauses; made by the first response that needs one.
  std::unique_ptr<SteadyTimer> rate_timer_;
  std::size_t body_read_size_ = 0;  // the room the last response body read was given
  std::chrono::steady_clock::time_point header_deadline_;
  std::chrono::steady_clock::time_point header_timer_armed_for_ = std::chrono::steady_clock::time_point::max();
  bool reading_header_ = false;
  bool header_timed_out_ = false;
  // Set when the connection closes with request bytes possibly unread (a refused upload): the
  // close then lingers so the client reads the response instead of a reset.
  bool linger_on_close_ = false;

  // A PROXY protocol header that did not come whole with the first read (rare): read on in
  // exact pieces, so no byte after it is taken from the socket (a TLS handshake follows).
  std::string proxy_header_;
  // The bytes of a ClientHello read to find its SNI (DoReadClientHello), until the handshake or
  // the passthrough takes them.
  std::string client_hello_;

  std::optional<RequestParser> request_;
  std::optional<ResponseParser> response_;
  // The heads sent upstream and to the client (message_writer.h), each alive until its write
  // completes; kept between exchanges so their capacity is reused.
  std::string request_head_;
  std::string response_head_;
  bool response_head_pending_ = false;  // held back to go out with the first body bytes
  BodyFramer request_body_;
  BodyFramer response_body_;
  std::optional<ErrorResponse> error_response_;
  upstream::UpstreamConnectionPtr upstream_;
  std::unique_ptr<char[]> body_buffer_;  // one chunk in flight, either direction
  std::size_t body_buffer_size_ = 0;
  Exchange exchange_;
};

}  // namespace pier::dataplane::http
