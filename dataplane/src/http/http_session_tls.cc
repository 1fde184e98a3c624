// The TLS half of HttpSession: what the handshake means for a request (421 when the
// certificate does not cover the Host, the client certificate of auth-tls-*, HSTS), redirects
// from plain HTTP to HTTPS, close_notify, and the TLS handshake to a backend-protocol HTTPS
// upstream.
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <algorithm>
#include <chrono>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <spdlog/spdlog.h>

#include "http/http_session.h"
#include "tls/client_hello.h"
#include "tls/passthrough.h"
#include "pier/common/match.h"

namespace pier::dataplane::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {
using Clock = std::chrono::steady_clock;
constexpr unsigned kPermanentRedirect = 308;
constexpr unsigned kMisdirectedRequest = 421;
constexpr uint16_t kDefaultHttpsPort = 443;
// A ClientHello is read in pieces of this much (most fit in one), up to tls::kMaxClientHelloBytes.
constexpr std::size_t kClientHelloReadBytes = 2048;
}  // namespace

void HttpSession::DoReadClientHello() {
  // Like a request head: it gets --header-timeout, and a drain may close the connection.
  idle_ = true;
  reading_header_ = true;
  if (client_hello_.empty()) {
    header_deadline_ = Clock::now() + worker_.server().options.header_timeout;
    if (header_timer_armed_for_ > header_deadline_) ArmHeaderTimer();
  }
  const std::size_t have = client_hello_.size();
  client_hello_.resize(std::min(have + kClientHelloReadBytes, tls::kMaxClientHelloBytes));
  client_.socket().async_read_some(asio::buffer(client_hello_.data() + have, client_hello_.size() - have),
                                   [self = shared_from_this(), have](boost::system::error_code ec, std::size_t bytes) {
                                     self->client_hello_.resize(have + bytes);
                                     self->OnClientHelloBytes(ec, bytes);
                                   });
}

void HttpSession::OnClientHelloBytes(boost::system::error_code ec, std::size_t) {
  idle_ = false;
  reading_header_ = false;
  if (ec) {
    if (header_timed_out_) ec = beast::error::timeout;
    tls::ServerTls::Count(ec, handshake_);
    spdlog::debug("{}: TLS handshake failed: {} before the end of the ClientHello", peer_text_, ec.message());
    header_timer_.cancel();  // else the pending wait holds the session until it fires
    boost::system::error_code ignored;
    client_.socket().close(ignored);
    return;
  }
  const tls::ClientHello hello = tls::ParseClientHello(client_hello_);
  if (hello.status == tls::ClientHello::Status::kNeedMore && client_hello_.size() < tls::kMaxClientHelloBytes) {
    DoReadClientHello();
    return;
  }
  // The ClientHello's deadline is over (the handshake has its own): a wait left pending would
  // hold this session, and its connection count, until it fired, however soon the connection
  // ended. Disarmed, so a later request head arms it again.
  header_timer_.cancel();
  header_timer_armed_for_ = Clock::time_point::max();
  if (hello.status == tls::ClientHello::Status::kDone && !hello.server_name.empty()) {
    const auto config = worker_.server().config.Current();
    const VirtualHostConfig* vhost = config ? config->FindHost(hello.server_name) : nullptr;
    if (vhost != nullptr && vhost->passthrough) {
      PassThrough(vhost->passthrough, hello.server_name);
      return;
    }
  } else if (hello.status != tls::ClientHello::Status::kDone) {
    // Not a ClientHello this parser takes: OpenSSL decides, and its refusal is counted there.
    spdlog::debug("{}: ClientHello not examined for TLS passthrough: {}", peer_text_,
                  hello.error.empty() ? "longer than " + std::to_string(tls::kMaxClientHelloBytes) + " bytes"
                                      : hello.error);
  }
  DoHandshake();
}

void HttpSession::PassThrough(std::shared_ptr<const RouteConfig> route, std::string server_name) {
  handed_off_ = true;
  header_timer_.cancel();
  auto passthrough = std::make_shared<tls::Passthrough>(worker_, std::move(route), std::move(guard_),
                                                        std::move(client_.socket()), peer_, peer_text_,
                                                        std::move(server_name), std::move(client_hello_));
  passthrough->Start();
}

bool HttpSession::CheckConnectionFitsHost() {
  if (server_tls_ == nullptr) return true;
  const std::string host = match::NormalizeHost(exchange_.host);
  if (server_tls_->MayServe(handshake_, host)) return true;
  // A client that reuses a connection for another host (HTTP/2-style coalescing, or a Host
  // header that disagrees with SNI) would otherwise be served under a certificate that does not
  // name that host.
  SendError(kMisdirectedRequest, "the TLS certificate of this connection does not cover host " + host +
                                     "; connect with SNI " + host);
  return false;
}

bool HttpSession::CheckHostCiphers() {
  if (handshake_.cipher_context == exchange_.route->cipher_context) return true;
  // The handshake named another host (SNI), whose ciphers this host may not allow, or the
  // host's list changed since.
  const std::string host = match::NormalizeHost(exchange_.host);
  SendError(kMisdirectedRequest, "host " + host +
                                     " allows only its own TLS ciphers and this connection's handshake was not made "
                                     "under them (another host's SNI, or the list changed since); connect anew with "
                                     "SNI " + host);
  return false;
}

bool HttpSession::CheckClientCertificate() {
  const tls::ClientAuthPolicy& policy = *exchange_.route->client_auth;
  tls::PeerCertificate peer;
  if (tls_) {
    if (!handshake_.client_auth || !handshake_.client_auth->SameAs(policy)) {
      // The handshake named another host (SNI), which asked for no certificate or checked it
      // against other CAs: its outcome says nothing about this host's.
      const std::string host = match::NormalizeHost(exchange_.host);
      SendError(kMisdirectedRequest, "host " + host +
                                         " requires a client certificate this connection's TLS handshake did not "
                                         "verify for it (another host's SNI, or the host's CAs or CRLs changed "
                                         "since); connect anew with SNI " + host);
      return false;
    }
    peer = tls::InspectPeerCertificate(client_.native_handle());
  } else {
    peer.verify = "NONE";  // plain HTTP (or TLS ended by a proxy in front): no certificate
  }
  using State = tls::PeerCertificate::State;
  const bool refused = (peer.state == State::kNone && policy.verify() == v1::ClientAuth::ON) ||
                       (peer.state == State::kFailed &&
                        (policy.verify() != v1::ClientAuth::OPTIONAL_NO_CA || !peer.unknown_ca));
  if (refused) {
    std::string why = peer.state == State::kNone ? "No required SSL certificate was sent"
                                                 : "The SSL certificate error (" + peer.verify.substr(7) + ")";
    if (!policy.error_page().empty()) {
      exchange_.location = policy.error_page();
      SendError(302, why + "; redirecting to " + exchange_.location);
    } else {
      SendError(400, why);
    }
    return false;
  }
  if (!policy.SubjectAllowed(peer.subject_dn)) {
    SendError(403, "client certificate unauthorized (auth-tls-match-cn)");
    return false;
  }
  std::string& fields = exchange_.client_certificate;
  fields = "ssl-client-verify: " + peer.verify + "\r\n";
  if (peer.state != State::kNone) {
    fields += "ssl-client-subject-dn: " + peer.subject_dn + "\r\n";
    fields += "ssl-client-issuer-dn: " + peer.issuer_dn + "\r\n";
    if (policy.pass_certificate()) fields += "ssl-client-cert: " + peer.escaped_pem + "\r\n";
  }
  exchange_.forwarded.client_certificate = &fields;
  return true;
}

bool HttpSession::RedirectByRoute() {
  // As in ingress-nginx, these are answered before the redirect to HTTPS and before access
  // rules: they reveal nothing and reach no backend.
  const v1::RouteRedirect& redirect = exchange_.route->proto.route_redirect();
  if (redirect.status() != 0) {
    exchange_.location = redirect.location();
    if (redirect.append_request_uri()) exchange_.location += std::string_view(request_->get().target());
    SendError(redirect.status(), "redirecting to " + exchange_.location);
    return true;
  }
  if (!redirect.app_root().empty() && exchange_.path == "/") {
    exchange_.location = redirect.app_root();
    SendError(302, "redirecting to " + exchange_.location);
    return true;
  }
  return false;
}

bool HttpSession::RedirectToHttps() {
  // The client's scheme: behind a trusted proxy that ended TLS, its X-Forwarded-Proto (a
  // request that came over https there must not be sent to https again, forever).
  if (exchange_.forwarded.tls) return false;
  const v1::TlsRedirect& redirect = exchange_.route->proto.redirect();
  if (!redirect.ssl_redirect() && !redirect.force_ssl_redirect()) return false;
  uint16_t port = worker_.server().https_port;
  if (port == 0 && exchange_.forwarded.scheme_from_proxy) {
    // Pier has no HTTPS listener, but the proxy in front speaks https: its port is the one
    // clients use (--https-redirect-port, else 443).
    port = worker_.server().options.https_redirect_port != 0 ? worker_.server().options.https_redirect_port
                                                            : kDefaultHttpsPort;
  }
  if (port == 0) return false;  // no HTTPS listener to send anyone to
  exchange_.location = "https://" + match::NormalizeHost(exchange_.host);
  if (port != kDefaultHttpsPort) exchange_.location += ":" + std::to_string(port);
  exchange_.location += std::string_view(request_->get().target());
  SendError(kPermanentRedirect, "redirecting to " + exchange_.location);
  return true;
}

void HttpSession::AddStrictTransportSecurity(bhttp::fields& fields) const {
  // Only to a client that used https (here, or at a trusted proxy in front): browsers ignore
  // HSTS received over plain HTTP.
  if (!exchange_.forwarded.tls || !exchange_.route) return;
  const v1::TlsRedirect& redirect = exchange_.route->proto.redirect();
  if (redirect.hsts_max_age_s() == 0) return;
  std::string value = "max-age=" + std::to_string(redirect.hsts_max_age_s());
  if (redirect.hsts_include_subdomains()) value += "; includeSubDomains";
  fields.set(bhttp::field::strict_transport_security, value);
}

void HttpSession::AddRouteHeaders(bhttp::fields& fields) const {
  AddStrictTransportSecurity(fields);
  if (exchange_.route) AddCorsHeaders(exchange_.route->proto.cors(), exchange_.cors, fields);
}

void HttpSession::DoTlsShutdown() {
  // close_notify tells the client the last response ended here rather than being cut; its
  // answer is waited for only briefly, a client that never sends one does not hold the socket.
  client_buffer_.clear();
  client_.expires_after(tls::kTlsShutdownTimeout);
  client_.tls().async_shutdown([self = shared_from_this()](boost::system::error_code) {
    boost::system::error_code ignored;
    self->client_.socket().close(ignored);
  });
}

std::string HttpSession::PoolKey() const {
  const ClusterConfig& cluster = *exchange_.route->cluster;
  if (!cluster.upstream_tls.context) return exchange_.endpoint_id;
  return "tls " + cluster.name + " " + exchange_.endpoint_id;
}

void HttpSession::DoUpstreamHandshake() {
  const tls::UpstreamTls& settings = exchange_.route->cluster->upstream_tls;
  SSL* ssl = upstream_->stream.native_handle();
  boost::system::error_code not_an_address;
  asio::ip::make_address(settings.server_name, not_an_address);
  const bool dns_name = static_cast<bool>(not_an_address);
  // SNI carries DNS names only; an IP address is verified against the certificate's IP SANs.
  if (dns_name && settings.send_server_name) SSL_set_tlsext_host_name(ssl, settings.server_name.c_str());
  if (settings.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (dns_name) {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, settings.server_name.c_str(), settings.server_name.size());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(param, settings.server_name.c_str());
    }
  }
  upstream_->stream.expires_after(exchange_.route->connect_timeout);
  upstream_->stream.tls().async_handshake(
      asio::ssl::stream_base::client,
      beast::bind_front_handler(&HttpSession::OnUpstreamHandshake, shared_from_this()));
}

void HttpSession::OnUpstreamHandshake(boost::system::error_code ec) {
  if (!ec) {
    DoWriteRequestHeader();
    return;
  }
  if (ec == beast::error::timeout) {
    UpstreamFailed(UpstreamError::kConnectTimeout, 504, "upstream TLS handshake timeout");
    return;
  }
  const long verify = SSL_get_verify_result(upstream_->stream.native_handle());
  const std::string reason =
      verify != X509_V_OK
          ? "upstream TLS certificate not trusted for " + exchange_.route->cluster->upstream_tls.server_name + ": " +
                X509_verify_cert_error_string(verify)
          : "upstream TLS handshake failed: " + ec.message();
  UpstreamFailed(UpstreamError::kConnectFailed, 502, reason);
}

}  // namespace pier::dataplane::http
