#include "tls/tls_metrics.h"

#include <set>

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
                         .Register(metrics::Registry())) {
  auto& family = prometheus::BuildCounter()
                     .Name("pier_tls_handshakes_total")
                     .Help("TLS handshakes on the HTTPS listener by result.")
                     .Register(metrics::Registry());
  for (std::size_t i = 0; i < handshakes_.size(); ++i) {
    handshakes_[i] = &family.Add({{"result", std::string(HandshakeResultName(static_cast<HandshakeResult>(i)))}});
  }
}

void TlsMetrics::PublishExpiry(const CertificateSet& certificates) {
  std::lock_guard lock(mutex_);
  std::set<std::string_view> current;
  for (const auto& certificate : certificates.certificates()) {
    if (!certificate->not_after) continue;
    current.insert(certificate->name);
    auto it = expiry_.find(certificate->name);
    if (it == expiry_.end()) {
      it = expiry_.emplace(certificate->name, &expiry_family_.Add({{"secret", certificate->name}})).first;
    }
    it->second->Set(static_cast<double>(*certificate->not_after));
  }
  for (auto it = expiry_.begin(); it != expiry_.end();) {
    if (current.contains(it->first)) {
      ++it;
      continue;
    }
    expiry_family_.Remove(it->second);
    it = expiry_.erase(it);
  }
}

}  // namespace pier::dataplane::tls
