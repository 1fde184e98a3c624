// Prints the dataplane's metric catalog (docs/metrics.md; `--names`: one "name type" per line).
// It registers every family the way pier-dataplane does, plus one example route so the per-route
// families have a child to describe (prometheus-cpp exposes no family without one).
// A component that registers a new family must be initialised here too; the integration test
// test_every_scraped_metric_is_in_the_generated_reference fails while pier-dataplane exports a metric
// this catalog lacks.
#include <cstdio>
#include <cstring>
#include <string>

#include "auth/basic_auth.h"
#include "auth/external_auth.h"
#include "config/config_metrics.h"
#include "http/proxy_metrics.h"
#include "limits/limit_metrics.h"
#include "pier/common/metrics.h"
#include "pier/common/metrics_catalog.h"
#include "pier/common/process_metrics.h"
#include "pier/common/version.h"
#include "tls/certificate_set.h"
#include "tls/default_certificate.h"
#include "tls/tls_metrics.h"

int main(int argc, char** argv) {
  const bool names = argc > 1 && std::strcmp(argv[1], "--names") == 0;
  if (argc > 2 || (argc == 2 && !names)) {
    std::fprintf(stderr, "usage: %s [--names]\n", argv[0]);
    return 2;
  }
  namespace http = pier::dataplane::http;
  pier::metrics::RegisterBuildInfo(pier::Version());
  pier::metrics::RegisterProcessMetrics();
  http::ProxyMetrics::Get();
  pier::dataplane::ConfigMetrics::Get();
  pier::dataplane::limits::LimitMetrics::Get();
  pier::dataplane::basic_auth::RegisterMetrics();
  pier::dataplane::external_auth::RegisterMetrics();
  // One example certificate, so the per-Secret expiry family has a child to describe.
  auto& tls_metrics = pier::dataplane::tls::TlsMetrics::Get();
  if (auto pair = pier::dataplane::tls::GenerateDefaultCertificate()) {
    pier::v1::Snapshot snapshot;
    auto* certificate = snapshot.add_certificates();
    certificate->set_name("namespace/secret");
    certificate->set_certificate_chain_pem(pair->chain_pem);
    certificate->set_private_key_pem(pair->key_pem);
    if (auto set = pier::dataplane::tls::CertificateSet::Build(snapshot)) tls_metrics.PublishExpiry(**set);
  }
  tls_metrics.PublishCrlNextUpdate({{"namespace/secret", 0}});
  http::RouteMetrics route("namespace", "ingress", "service");
  // Every method: the label's values are a fixed list, and the catalog lists what it sees.
  for (int method = 0; method < static_cast<int>(http::Method::kCount); ++method) {
    route.CountRequest(200, static_cast<http::Method>(method));
  }

  const auto families = pier::metrics::CollectAll();
  const std::string text =
      names ? pier::metrics::RenderCatalogNames(families) : pier::metrics::RenderCatalogMarkdown(families);
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
