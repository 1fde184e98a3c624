// Prints the controller's metric catalog (docs/metrics.md; `--names`: one "name type" per line).
// It registers every family the way pier-controller does; invalid annotations get one example
// child because prometheus-cpp exposes no family without one.
// A component that registers a new family must be initialised here too; the integration test
// test_every_scraped_metric_is_in_the_generated_reference fails while pier-controller exports a metric
// this catalog lacks.
#include <cstdio>
#include <cstring>
#include <string>

#include "pier/common/metrics.h"
#include "pier/common/metrics_catalog.h"
#include "pier/common/process_metrics.h"
#include "pier/common/version.h"
#include "server/controller_metrics.h"
#include "sources/watch_metrics.h"
#include "translate/snapshot_translator.h"
#if PIER_HAVE_CLUSTER_SOURCE
#include "kube/resource.h"
#include "kube/watch_metrics.h"
#endif

int main(int argc, char** argv) {
  const bool names = argc > 1 && std::strcmp(argv[1], "--names") == 0;
  if (argc > 2 || (argc == 2 && !names)) {
    std::fprintf(stderr, "usage: %s [--names]\n", argv[0]);
    return 2;
  }
  pier::metrics::RegisterBuildInfo(pier::Version());
  pier::metrics::RegisterProcessMetrics();
  pier::server::ControllerMetrics::Get().CountInvalidAnnotation("example");
  pier::sources::WatchMetrics::Get();
  // Its constructor registers pier_controller_tls_secrets_rejected.
  const pier::translate::SnapshotTranslator translator{pier::translate::Options{}};
#if PIER_HAVE_CLUSTER_SOURCE
  for (const auto& resource : pier::kube::WatchedResources()) pier::kube::WatchMetricsFor(resource.kind_name);
#endif

  const auto families = pier::metrics::CollectAll();
  const std::string text =
      names ? pier::metrics::RenderCatalogNames(families) : pier::metrics::RenderCatalogMarkdown(families);
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
