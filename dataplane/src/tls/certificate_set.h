// The certificates of one snapshot, compiled into OpenSSL server contexts once when the
// snapshot arrives, and the SNI lookup over them. Held by the immutable Config, so a handshake
// picks its certificate from the config current at that moment and a connection keeps the
// context it was given (OpenSSL reference-counts it) however many snapshots follow.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::tls {

// SHA-256 over a certificate entry's chain and key PEM: equal digests, equal compiled context.
using CertificateDigest = std::array<unsigned char, 32>;

struct ServerCertificate {
  std::string name;                    // "namespace/secret"; "" for the dataplane's own default
  std::vector<std::string> sni_names;  // lowercase, exact or "*.one-label"
  std::shared_ptr<boost::asio::ssl::context> context;
  std::optional<int64_t> not_after;  // leaf expiry, seconds since the epoch
  CertificateDigest digest{};        // of the chain and key it was compiled from

  // Whether a request for `host` (already normalised: lowercase, no port) may be served on a
  // connection that presented this certificate: one of its SNI names matches the host.
  bool Covers(std::string_view host) const noexcept;
};

class CertificateSet final {
 public:
  // Checks (pier::tls::CheckKeyPair) and compiles every certificate of the snapshot; the error
  // names the certificate and the step. default_certificate, when set, must name one of them.
  //
  // With `previous` (the set in use), an entry whose name, chain and key are those of a
  // certificate there takes over its checked and compiled context instead of doing both again:
  // about 2 ms per certificate, so with a thousand TLS hosts every snapshot would otherwise
  // cost seconds.
  static Result<std::shared_ptr<const CertificateSet>> Build(const pier::v1::Snapshot& snapshot,
                                                             const CertificateSet* previous = nullptr);

  // The certificate for a ClientHello's server name: an exact SNI name first, then a one-label
  // wildcard ("*.example.com" matches "a.example.com", neither "a.b.example.com" nor
  // "example.com"), case-insensitive, a trailing "." ignored. Null: no certificate names it.
  std::shared_ptr<const ServerCertificate> Select(std::string_view server_name) const;

  // The snapshot's default_certificate, or null when the dataplane's own is the default.
  const std::shared_ptr<const ServerCertificate>& default_certificate() const noexcept { return default_; }
  const std::vector<std::shared_ptr<const ServerCertificate>>& certificates() const noexcept { return certificates_; }

 private:
  std::vector<std::shared_ptr<const ServerCertificate>> certificates_;  // sorted by name
  // Exact names, and wildcards keyed by what follows the "*" (".example.com"). When two
  // certificates claim one name, the first by certificate name wins.
  std::map<std::string, std::shared_ptr<const ServerCertificate>, std::less<>> exact_;
  std::map<std::string, std::shared_ptr<const ServerCertificate>, std::less<>> wildcard_;
  std::shared_ptr<const ServerCertificate> default_;
};

// Seconds since the epoch at which the leaf (first) certificate of the PEM chain expires.
std::optional<int64_t> LeafNotAfter(const std::string& chain_pem);

}  // namespace pier::dataplane::tls
