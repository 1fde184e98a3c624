// The HTTPS listener's TLS: one base server context whose SNI callback picks, for each new
// handshake, the certificate of the Config current at that moment (a rotated Secret is used by
// the next handshake; a connection keeps what it was given). The callback records the choice
// on the connection so the HTTP session can refuse a Host the certificate does not cover (421).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <array>
#include <memory>
#include <optional>
#include <string_view>

#include "pier/common/result.h"
#include "routing/config.h"
#include "tls/certificate_set.h"
#include "tls/client_auth.h"
#include "tls/tls_metrics.h"

namespace pier::dataplane::tls {

// What the handshake of one client connection presented.
struct HandshakeInfo {
  std::shared_ptr<const ServerCertificate> presented;
  bool by_default = false;  // no SNI, or no certificate names it
  // The client-certificate policy of the host the SNI named, which the handshake asked for a
  // certificate under; null: no certificate was asked for.
  std::shared_ptr<const ClientAuthPolicy> client_auth;
  // ssl-ciphers: the session context of the host's own cipher list the handshake was made
  // under; nullopt: the listener's list.
  std::optional<std::array<unsigned char, 32>> cipher_context;
};

class ServerTls final {
 public:
  // Generates the self-signed default certificate and the base context.
  static Result<std::unique_ptr<ServerTls>> Create(const ConfigStore& store);
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // The context new server-side TLS streams are made with. Thread-safe to share.
  boost::asio::ssl::context& context() noexcept { return *base_; }

  // Before the handshake: the SNI callback records its choice in `info`, which must outlive it.
  static void Attach(SSL* ssl, HandshakeInfo* info) noexcept;
  // The handshake's outcome for pier_tls_handshakes_total, counted.
  static HandshakeResult Count(const boost::system::error_code& ec, const HandshakeInfo& info) noexcept;

  // Whether a request for `host` (normalised: lowercase, no port) may be served on a connection
  // that presented info.presented: the certificate covers the host, or it is the certificate
  // this host would get anyway (a host without TLS reached through the default certificate).
  bool MayServe(const HandshakeInfo& info, std::string_view host) const;

 private:
  ServerTls(const ConfigStore& store, std::shared_ptr<const ServerCertificate> self_signed);
  // The certificate a handshake naming `server_name` gets now; by_default tells whether SNI chose it.
  std::shared_ptr<const ServerCertificate> Choose(std::string_view server_name, bool& by_default) const;
  static int OnServerName(SSL* ssl, int* alert, void* arg);
  // Before OpenSSL looks for a session to resume: the SNI host's client-certificate policy, if
  // any, is recorded and becomes the session ID context.
  static int OnClientHello(SSL* ssl, int* alert, void* arg);

  const ConfigStore& store_;
  std::shared_ptr<const ServerCertificate> self_signed_;
  std::shared_ptr<boost::asio::ssl::context> base_;  // the self-signed context, plus the SNI callback
};

}  // namespace pier::dataplane::tls
