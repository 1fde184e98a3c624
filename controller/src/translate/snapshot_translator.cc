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

// A problem with a controller flag (it concerns no Ingress): one warning when it appears, one
// line when it is gone, nothing while it stays the same.
void LogWhenChanged(const std::string& problem, std::string& last, const std::string& flag_value,
                    fmt::format_string<const std::string&> fine) {
  if (problem == last) return;
  if (!problem.empty()) {
    spdlog::warn("{}", problem);
  } else if (!flag_value.empty()) {
    spdlog::info(fine, flag_value);
  }
  last = problem;
}

}  // namespace

SnapshotTranslator::SnapshotTranslator(Options options) : options_(std::move(options)) { RejectedSecrets(); }

Output SnapshotTranslator::operator()(const model::ClusterState& state) {
  Output out = Translate(state, options_, BuildContext{&history_, std::chrono::system_clock::now(), &clusters_});
  history_.Update(out.good_certificates, state);
  RejectedSecrets().Set(static_cast<double>(out.rejected_secrets.size()));
  LogWhenChanged(out.default_certificate_problem, default_problem_, options_.default_tls_secret,
                 "default TLS secret {} is in use");
  LogWhenChanged(out.default_backend_problem, default_backend_problem_, options_.default_backend_service,
                 "default backend service {} is in use");
  return out;
}

}  // namespace pier::translate
