#include "server/warning_reporter.h"

#include <spdlog/spdlog.h>

#include "server/controller_metrics.h"

namespace pier::server {
namespace {

std::string Identity(const translate::Warning& warning) {
  // Fields joined with a byte that cannot appear in Kubernetes names, reasons or keys.
  std::string id = warning.ingress_namespace;
  for (const std::string* part : {&warning.ingress_name, &warning.reason, &warning.annotation, &warning.message}) {
    id += '\x1f';
    id += *part;
  }
  return id;
}

}  // namespace

std::vector<translate::Warning> WarningReporter::Report(const std::vector<translate::Warning>& warnings) {
  std::set<std::string> current;
  std::vector<translate::Warning> fresh;
  for (const auto& warning : warnings) {
    std::string id = Identity(warning);
    const bool is_new = !previous_.contains(id) && !current.contains(id);
    current.insert(std::move(id));
    if (!is_new) continue;
    spdlog::warn("{}: ingress {}/{}: {}", warning.reason, warning.ingress_namespace, warning.ingress_name,
                 warning.message);
    if (warning.reason == "InvalidAnnotation" && !warning.annotation.empty()) {
      ControllerMetrics::Get().CountInvalidAnnotation(warning.annotation);
    }
    fresh.push_back(warning);
  }
  previous_ = std::move(current);
  return fresh;
}

}  // namespace pier::server
