#include "translate/snapshot_translator.h"

#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "pier/common/metrics.h"

namespace pier::translate {
namespace {

prometheus::Gauge& RejectedSecrets() {
  static prometheus::Gauge& gauge = prometheus::BuildGauge()
                                        .Name("pier_controller_tls_secrets_rejected")
                                        .Help("TLS Secrets in use (named by a served Ingress or --default-tls-secret) "
                                              "that are missing or cannot serve TLS, as of the last build.")
                                        .Register(metrics::Registry())
                                        .Add({});
  return gauge;
}

}  // namespace

SnapshotTranslator::SnapshotTranslator(Options options) : options_(std::move(options)) { RejectedSecrets(); }

Output SnapshotTranslator::operator()(const model::ClusterState& state) {
  Output out = Translate(state, options_, BuildContext{&history_, std::chrono::system_clock::now(), &clusters_});
  history_.Update(out.good_certificates, state);
  RejectedSecrets().Set(static_cast<double>(out.rejected_secrets.size()));
  if (out.default_certificate_problem != default_problem_) {
    if (!out.default_certificate_problem.empty()) {
      spdlog::warn("{}", out.default_certificate_problem);
    } else if (!options_.default_tls_secret.empty()) {
      spdlog::info("default TLS secret {} is in use", options_.default_tls_secret);
    }
    default_problem_ = out.default_certificate_problem;
  }
  return out;
}

}  // namespace pier::translate
