// pier_tls_handshakes_total{result}, pier_tls_certificate_expiry_timestamp_seconds{secret} and
// pier_tls_crl_next_update_timestamp_seconds{secret}.
// Handshake children are created once (the result set is fixed); expiry series follow the
// snapshot's certificates and are only touched when a snapshot is applied.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "tls/certificate_set.h"

namespace pier::dataplane::tls {

enum class HandshakeResult {
  kOk,                 // a certificate chosen by SNI
  kUnknownSniDefault,  // completed with the default certificate: no SNI, or no certificate for it
  kProtocolVersion,    // the client offered only versions below TLS 1.2 (or garbage for a version)
  kNoSharedCipher,
  kTimeout,  // not finished within --header-timeout
  kError,    // anything else: the client went away, bad record, certificate rejected by the client...
  kCount,
};

std::string_view HandshakeResultName(HandshakeResult result) noexcept;

class TlsMetrics final {
 public:
  static TlsMetrics& Get();

  void Count(HandshakeResult result) noexcept { handshakes_[static_cast<std::size_t>(result)]->Increment(); }
  // One series per certificate of the applied snapshot, with its leaf's expiry; series of
  // certificates that are gone are removed.
  void PublishExpiry(const CertificateSet& certificates);
  // One series per auth-tls-secret with CRLs, the earliest nextUpdate of its CRLs; series of
  // Secrets no longer in use go.
  void PublishCrlNextUpdate(const std::map<std::string, int64_t, std::less<>>& by_secret);

 private:
  TlsMetrics();
  std::array<prometheus::Counter*, static_cast<std::size_t>(HandshakeResult::kCount)> handshakes_{};
  prometheus::Family<prometheus::Gauge>& expiry_family_;
  std::mutex mutex_;  // PublishExpiry may run on the config client's thread while another ends
  std::map<std::string, prometheus::Gauge*, std::less<>> expiry_;
  prometheus::Family<prometheus::Gauge>& crl_family_;
  std::map<std::string, prometheus::Gauge*, std::less<>> crl_next_update_;
};

}  // namespace pier::dataplane::tls
