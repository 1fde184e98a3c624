// Client certificates (auth-tls-*): a virtual host's ClientAuth compiled once per snapshot into
// an OpenSSL verification store, and what a connection's handshake made of the client's
// certificate.
//
// The handshake asks for a certificate when its SNI names a host with a policy; the policy's
// identity (a digest of the CA bundle, the mode and the depth) becomes the TLS session ID
// context, so a session is only resumed under the same policy, and each request compares the
// identity the connection was verified under with its own host's policy (421 when they differ).
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pier/common/path_regex.h"
#include "pier/common/result.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::tls {

class ClientAuthPolicy final {
 public:
  using Identity = std::array<unsigned char, 32>;

  // Validates and compiles: ca_pem must hold at least one certificate and nothing else that
  // fails to parse, verify_depth 0..100, error_page URL text.
  static Result<std::shared_ptr<const ClientAuthPolicy>> Build(const pier::v1::ClientAuth& settings);
  ~ClientAuthPolicy();
  ClientAuthPolicy(const ClientAuthPolicy&) = delete;
  ClientAuthPolicy& operator=(const ClientAuthPolicy&) = delete;

  pier::v1::ClientAuth::Verify verify() const noexcept { return verify_; }
  const std::string& error_page() const noexcept { return error_page_; }
  bool pass_certificate() const noexcept { return pass_certificate_; }
  const std::string& secret() const noexcept { return secret_; }
  // auth-tls-match-cn: whether a certificate with this subject (RFC 2253; "" without one) is let
  // in. Not part of the identity: it is checked per request, against the request's host.
  bool SubjectAllowed(std::string_view subject_dn) const { return !match_cn_ || match_cn_->Search(subject_dn); }
  const Identity& identity() const noexcept { return identity_; }
  // The earliest nextUpdate (Unix seconds) of the policy's CRLs: when the first of them expires
  // and every certificate its issuer vouches for starts failing. nullopt without CRLs (or when
  // none has a nextUpdate).
  std::optional<int64_t> crl_next_update() const noexcept { return crl_next_update_; }
  bool SameAs(const ClientAuthPolicy& other) const noexcept { return identity_ == other.identity_; }

  // In the ClientHello callback, before OpenSSL looks for a session to resume.
  bool SetSessionContext(SSL* ssl) const noexcept;
  // After SSL_set_SSL_CTX in the SNI callback (which replaces the verify store): ask for a
  // certificate, accept the handshake whatever it is (the request decides), verify against
  // this policy's CAs, and name them in the CertificateRequest.
  bool RequestCertificate(SSL* ssl) const noexcept;

 private:
  ClientAuthPolicy() = default;

  pier::v1::ClientAuth::Verify verify_ = pier::v1::ClientAuth::ON;
  int depth_ = 1;
  std::string error_page_;
  bool pass_certificate_ = false;
  std::string secret_;
  std::optional<match::PathRegex> match_cn_;
  Identity identity_{};
  std::optional<int64_t> crl_next_update_;
  X509_STORE* store_ = nullptr;
  STACK_OF(X509_NAME)* names_ = nullptr;
};

// What the client's certificate on a connection is, in nginx's terms.
struct PeerCertificate {
  enum class State { kNone, kVerified, kFailed };
  State state = State::kNone;
  // kFailed only because no CA of the policy vouches for the certificate (self-signed, unknown
  // issuer, untrusted): the failures optional_no_ca lets through, as nginx's
  // ngx_ssl_verify_error_optional. Any other failure (revoked, expired, a CRL missing or out of
  // date, wrong purpose) is refused in every mode.
  bool unknown_ca = false;
  std::string verify;      // ssl-client-verify: SUCCESS, NONE or FAILED:<OpenSSL's reason>
  std::string subject_dn;  // RFC 2253, as nginx's $ssl_client_s_dn
  std::string issuer_dn;   // RFC 2253, as $ssl_client_i_dn
  std::string escaped_pem;  // the leaf, PEM, URL-escaped as $ssl_client_escaped_cert
};

PeerCertificate InspectPeerCertificate(SSL* ssl);

}  // namespace pier::dataplane::tls
