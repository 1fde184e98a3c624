// pier-kube-watch: runs the controller's informers against a real API server and prints one
// JSON line per callback. It exists for the end-to-end tests of the kube layer (and for
// looking at what the controller would see in a cluster):
//   {"event":"REPLACE","kind":"Service","keys":["default/a"],"versions":{"default/a":"41"}}
//   {"event":"UPSERT","kind":"Service","key":"default/a","resourceVersion":"42"}
//   {"event":"DELETE","kind":"Service","key":"default/a"}
//   {"event":"SYNCED","kind":"Service"}
// and on SIGINT/SIGTERM {"event":"STOPPED","stop_ms":N} after all informers stopped.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <vector>

#include "kube/informer.h"
#include "kube/kubeconfig.h"
#include "kube/rest_client.h"
#include "kube/secret_filter.h"
#include "pier/common/log.h"
#include "pier/common/metrics.h"
#include "pier/common/version.h"

namespace {

using pier::kube::ResourceFor;

class LinePrinter final {
 public:
  void Print(const nlohmann::json& line) {
    std::lock_guard lock(mutex_);
    std::cout << line.dump() << std::endl;  // flushed: the test reads lines as they come
  }

 private:
  std::mutex mutex_;
};

std::string KindLabel(pier::model::Kind kind) { return std::string(ResourceFor(kind).kind_name); }

pier::kube::InformerCallbacks PrintingCallbacks(LinePrinter& out) {
  pier::kube::InformerCallbacks callbacks;
  callbacks.on_replace = [&out](pier::model::Kind kind, std::vector<nlohmann::json> objects) {
    nlohmann::json keys = nlohmann::json::array();
    nlohmann::json versions = nlohmann::json::object();
    for (const auto& object : objects) {
      const std::string key = pier::kube::ObjectKey(object);
      keys.push_back(key);
      versions[key] = pier::kube::ResourceVersionOf(object);
    }
    out.Print({{"event", "REPLACE"}, {"kind", KindLabel(kind)}, {"keys", std::move(keys)}, {"versions", std::move(versions)}});
  };
  callbacks.on_upsert = [&out](pier::model::Kind kind, nlohmann::json object) {
    out.Print({{"event", "UPSERT"},
               {"kind", KindLabel(kind)},
               {"key", pier::kube::ObjectKey(object)},
               {"resourceVersion", pier::kube::ResourceVersionOf(object)},
               {"objectKind", object.value("kind", "")}});
  };
  callbacks.on_delete = [&out](pier::model::Kind kind, std::string key) {
    out.Print({{"event", "DELETE"}, {"kind", KindLabel(kind)}, {"key", std::move(key)}});
  };
  callbacks.on_synced = [&out](pier::model::Kind kind) {
    out.Print({{"event", "SYNCED"}, {"kind", KindLabel(kind)}});
  };
  // As the controller's ClusterSource does: Secrets it does not read are not shown.
  return pier::kube::FilteringSecrets(std::move(callbacks));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs Pier's Kubernetes informers and prints what they deliver, one JSON line each."};
  std::string kubeconfig;
  std::string namespace_;
  std::string log_level = "info";
  std::string metrics_file;
  int min_watch_timeout = 300;
  int max_watch_timeout = 600;
  int max_backoff_ms = 30000;
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: in-cluster config)");
  app.add_option("--namespace", namespace_, "watch one namespace only (default: all)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  app.add_option("--metrics-file", metrics_file, "write the Prometheus metrics here on exit");
  app.add_option("--min-watch-timeout", min_watch_timeout, "shortest server-side watch timeout, seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-watch-timeout", max_watch_timeout, "longest server-side watch timeout, seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-backoff-ms", max_backoff_ms, "longest wait between retries after errors")
      ->check(CLI::PositiveNumber);
  app.set_version_flag("--version", pier::Version());
  CLI11_PARSE(app, argc, argv);

  if (auto init = pier::log::Init({.format = pier::log::Format::kText, .level = log_level, .component = "kube-watch"});
      !init) {
    std::cerr << "pier-kube-watch: " << init.error() << "\n";
    return 2;
  }
  auto config = kubeconfig.empty() ? pier::kube::InClusterConfigFromEnvironment()
                                   : pier::kube::LoadKubeconfig(kubeconfig);
  if (!config) {
    spdlog::critical("{}", config.error());
    return 1;
  }
  auto client = pier::kube::RestKubeClient::FromConfig(*config, {.user_agent = "pier-kube-watch"});
  if (!client) {
    spdlog::critical("{}", client.error());
    return 1;
  }

  // Signals are taken synchronously by sigwait below; blocked before any thread starts so
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  LinePrinter out;
  pier::kube::InformerOptions options;
  options.namespace_ = namespace_;
  options.min_watch_timeout = std::chrono::seconds(min_watch_timeout);
  options.max_watch_timeout = std::chrono::seconds(std::max(min_watch_timeout, max_watch_timeout));
  options.backoff.max = std::chrono::milliseconds(max_backoff_ms);
  options.backoff.initial = std::min(options.backoff.initial, options.backoff.max);
  std::vector<std::unique_ptr<pier::kube::Informer>> informers;
  for (const auto& resource : pier::kube::WatchedResources()) {
    informers.push_back(
        std::make_unique<pier::kube::Informer>(**client, resource, options, PrintingCallbacks(out)));
    informers.back()->Start();
  }
  spdlog::info("watching {} kinds via {}", informers.size(), config->origin);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  const auto stopping = std::chrono::steady_clock::now();
  for (auto& informer : informers) informer->RequestStop();
  for (auto& informer : informers) informer->Stop();
  const auto stop_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stopping).count();
  out.Print({{"event", "STOPPED"}, {"stop_ms", stop_ms}});

  if (!metrics_file.empty()) {
    std::ofstream metrics(metrics_file);
    metrics << pier::metrics::Serialize();
    if (!metrics) spdlog::error("cannot write {}", metrics_file);
  }
  return 0;
}
