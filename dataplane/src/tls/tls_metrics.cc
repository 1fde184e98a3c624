#include "tls/tls_metrics.h"

#include <cstdint>
#include <map>

#include "pier/common/metrics.h"

namespace pier::dataplane::tls {

std::string_view HandshakeResultName(HandshakeResult result) noexcept {
  static constexpr std::string_view kNames[] = {"ok",      "unknown_sni_default", "protocol_version",
                                                "no_shared_cipher", "timeout",       "error"};
  auto index = static_cast<std::size_t>(result);
  return index < std::size(kNames) ? kNames[index] : "error";
}

TlsMetrics& TlsMetrics::Get() {
  static TlsMetrics metrics;
  return metrics;
}

TlsMetrics::TlsMetrics()
    : expiry_family_(prometheus::BuildGauge()
                         .Name("pier_tls_certificate_expiry_timestamp_seconds")
                         .Help("Expiry (notAfter, Unix seconds) of the leaf certificate of each TLS Secret in use.")
                         .Register(metrics::Registry())),
      crl_family_(prometheus::BuildGauge()
                      .Name("pier_tls_crl_next_update_timestamp_seconds")
                      .Help("Earliest nextUpdate (Unix seconds) of the CRLs (ca.crl) of each client-certificate CA "
                            "Secret in use: past it, every client certificate that CRL covers is refused.")
                      .Register(metrics::Registry())) {
  auto& family = prometheus::BuildCounter()
                     .Name("pier_tls_handshakes_total")
                     .Help("TLS handshakes on the HTTPS listener by result.")
                     .Register(metrics::Registry());
  for (std::size_t i = 0; i < handshakes_.size(); ++i) {
    handshakes_[i] = &family.Add({{"result", std::string(HandshakeResultName(static_cast<HandshakeResult>(i)))}});
  }
}

namespace {

// One gauge per Secret with its value; gauges of Secrets not in `values` are removed.
void SyncPerSecret(prometheus::Family<prometheus::Gauge>& family,
                   std::map<std::string, prometheus::Gauge*, std::less<>>& series,
                   const std::map<std::string, int64_t, std::less<>>& values) {
  for (const auto& [secret, value] : values) {
    auto it = series.find(secret);
    if (it == series.end()) it = series.emplace(secret, &family.Add({{"secret", secret}})).first;
    it->second->Set(static_cast<double>(value));
  }
  for (auto it = series.begin(); it != series.end();) {
    if (values.contains(it->first)) {
      ++it;
      continue;
    }
    family.Remove(it->second);
    it = series.erase(it);
  }
}

}  // namespace

void TlsMetrics::PublishExpiry(const CertificateSet& certificates) {
  std::map<std::string, int64_t, std::less<>> not_after;
  for (const auto& certificate : certificates.certificates()) {
    if (certificate->not_after) not_after.emplace(certificate->name, static_cast<int64_t>(*certificate->not_after));
  }
  std::lock_guard lock(mutex_);
  SyncPerSecret(expiry_family_, expiry_, not_after);
}

void TlsMetrics::PublishCrlNextUpdate(const std::map<std::string, int64_t, std::less<>>& by_secret) {
  std::lock_guard lock(mutex_);
  SyncPerSecret(crl_family_, crl_next_update_, by_secret);
}

}  // namespace pier::dataplane::tls
