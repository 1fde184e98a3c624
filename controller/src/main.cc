// pier-controller: flags and wiring only. Sources feed the event loop, the loop publishes
// snapshots to the gRPC service, the admin server exposes metrics and readiness.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "pier/common/address.h"
#include "pier/common/admin_server.h"
#include "pier/common/log.h"
#include "pier/common/metrics.h"
#include "pier/common/process_metrics.h"
#include "pier/common/version.h"
#include "server/controller_metrics.h"
#include "server/event_loop.h"
#include "server/grpc_server.h"
#include "server/snapshot_service.h"
#include "sources/manifests_source.h"
#include "sources/watch_metrics.h"
#include "translate/snapshot_translator.h"
#include "translate/translate.h"
#if PIER_HAVE_CLUSTER_SOURCE
#include "kube/cluster_source.h"
#include "status/status_service.h"
#endif

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
// Dataplanes are told to go away at once; this only bounds calls that do not notice.
constexpr std::chrono::seconds kGrpcShutdownGrace{2};

struct Flags {
  std::string source = "cluster";
  std::string manifests;
  std::string kubeconfig;
  pier::translate::Options translate;
  pier::server::GrpcServerOptions grpc;
  std::string metrics_listen = ":10254";
  std::string publish_service;
  std::string publish_status_address;
  bool leader_elect = false;
  std::string leader_election_namespace;
  std::string leader_election_id = "pier-controller-leader";
  std::string log_format = "text";
  std::string log_level = "info";
};

void AddFlags(CLI::App& app, Flags& flags) {
  app.set_version_flag("--version", std::string("pier-controller ") + pier::Version());
  app.add_option("--source", flags.source, "Where objects come from: cluster or manifests")
      ->check(CLI::IsMember({"cluster", "manifests"}))
      ->capture_default_str();
  app.add_option("--manifests", flags.manifests, "Folder of *.yaml/*.yml manifests (--source=manifests)");
  app.add_option("--kubeconfig", flags.kubeconfig, "kubeconfig file (--source=cluster; default: in-cluster)");
  app.add_option("--ingress-class", flags.translate.ingress_class, "IngressClass name served")->capture_default_str();
  app.add_option("--controller-name", flags.translate.controller_name, "IngressClass spec.controller served")
      ->capture_default_str();
  app.add_flag("--watch-ingress-without-class", flags.translate.watch_ingress_without_class,
               "Also serve Ingresses that name no class");
  app.add_option("--namespace", flags.translate.namespace_, "Only this namespace (default: all)");
  app.add_flag("--enable-ssl-passthrough", flags.translate.enable_ssl_passthrough,
               "Let Ingresses pass TLS through to their backends unread (the ssl-passthrough annotation)");
  app.add_option("--grpc-listen", flags.grpc.listen, "Snapshot service address")->capture_default_str();
  app.add_option("--grpc-tls-cert", flags.grpc.tls_cert_file, "Server certificate (PEM) for mutual TLS");
  app.add_option("--grpc-tls-key", flags.grpc.tls_key_file, "Server private key (PEM) for mutual TLS");
  app.add_option("--grpc-client-ca", flags.grpc.client_ca_file, "CA (PEM) that dataplane certificates must chain to");
  app.add_flag("--grpc-insecure", flags.grpc.insecure, "Allow plaintext gRPC on a non-loopback address");
  app.add_option("--metrics-listen", flags.metrics_listen, "Admin address: /metrics, /healthz, /readyz")
      ->capture_default_str();
  app.add_option("--default-tls-secret", flags.translate.default_tls_secret,
                 "NAMESPACE/NAME of a kubernetes.io/tls Secret served for unknown SNI (default: self-signed)");
  app.add_option("--default-backend-service", flags.translate.default_backend_service,
                 "NAMESPACE/NAME of the Service (its first port) that serves what no Ingress does: unknown hosts, "
                 "paths no rule matches, custom-http-errors pages (default: Pier's own 404)");
  app.add_option("--publish-service", flags.publish_service,
                 "NAMESPACE/NAME of the dataplane Service whose address (LoadBalancer ingress, else ClusterIP) "
                 "goes into the status of served Ingresses (default: no status writes)");
  app.add_option("--publish-status-address", flags.publish_status_address,
                 "Comma-separated IP addresses or DNS names written into the status of served Ingresses, "
                 "instead of --publish-service's address (e.g. a bare-metal VIP)");
  app.add_flag("--leader-elect", flags.leader_elect,
               "Elect one leader among replicas on a Lease; only it writes Ingress status and Events "
               "(default: this replica always leads)");
  app.add_option("--leader-election-namespace", flags.leader_election_namespace,
                 "Namespace of the election Lease (default: the kubeconfig's or pod's namespace, else default)");
  app.add_option("--leader-election-id", flags.leader_election_id, "Name of the election Lease")->capture_default_str();
  app.add_option("--log-format", flags.log_format, "text or json")->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error, critical, off")->capture_default_str();
}

bool IsNamespacedName(const std::string& text) {
  const auto slash = text.find('/');
  return slash != std::string::npos && slash != 0 && slash + 1 != text.size() &&
         text.find('/', slash + 1) == std::string::npos;
}

// Problems with the flags themselves; the process exits with status 2.
pier::Result<bool> Validate(const Flags& flags) {
  if (flags.source == "cluster") {
#if !PIER_HAVE_CLUSTER_SOURCE
    return pier::Fail("--source=cluster: the cluster source is not built yet; use --source=manifests --manifests DIR");
#endif
  } else {
    if (flags.manifests.empty()) return pier::Fail("--source=manifests needs --manifests DIR");
    std::error_code ec;
    if (!std::filesystem::is_directory(flags.manifests, ec)) {
      return pier::Fail("--manifests: \"" + flags.manifests + "\" is not a readable directory");
    }
  }
  auto grpc = pier::server::CheckGrpcOptions(flags.grpc);
  if (!grpc) return pier::Fail(grpc.error());
  auto metrics = pier::parse::ListenAddress(flags.metrics_listen);
  if (!metrics) return pier::Fail("--metrics-listen: " + metrics.error());
  if (!flags.publish_service.empty() && !IsNamespacedName(flags.publish_service)) {
    return pier::Fail("--publish-service must be NAMESPACE/NAME, got \"" + flags.publish_service + "\"");
  }
#if PIER_HAVE_CLUSTER_SOURCE
  if (!flags.publish_status_address.empty()) {
    auto addresses = pier::status::ParseStatusAddresses(flags.publish_status_address);
    if (!addresses) return pier::Fail("--publish-status-address: " + addresses.error());
  }
#endif
  // Only the --namespace is watched: a Secret or Service elsewhere would never be seen.
  for (const auto& [flag, value] : {std::pair<const char*, const std::string&>{"--default-tls-secret",
                                                                                flags.translate.default_tls_secret},
                                    {"--default-backend-service", flags.translate.default_backend_service}}) {
    if (value.empty()) continue;
    if (!IsNamespacedName(value)) return pier::Fail(std::string(flag) + " must be NAMESPACE/NAME, got \"" + value + "\"");
    if (!flags.translate.namespace_.empty() && !value.starts_with(flags.translate.namespace_ + "/")) {
      return pier::Fail(std::string(flag) + " " + value + " is outside --namespace " + flags.translate.namespace_);
    }
  }
  return true;
}

// Blocks SIGINT/SIGTERM in every thread (call before starting any), so sigwait gets them.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

pier::Result<std::unique_ptr<pier::sources::Source>> MakeSource(const Flags& flags) {
  if (flags.source == "manifests") {
    return std::unique_ptr<pier::sources::Source>(
        std::make_unique<pier::sources::ManifestsSource>(pier::sources::ManifestsOptions{.dir = flags.manifests}));
  }
#if PIER_HAVE_CLUSTER_SOURCE
  pier::kube::ClusterSourceOptions options;
  options.namespace_ = flags.translate.namespace_;
  auto cluster = pier::kube::ClusterSource::FromKubeconfig(flags.kubeconfig, std::move(options),
                                                           std::string("pier-controller/") + pier::Version());
  if (!cluster) return pier::Fail(cluster.error());
  return std::unique_ptr<pier::sources::Source>(std::move(*cluster));
#else
  return pier::Fail("the cluster source is not built in");
#endif
}

#if PIER_HAVE_CLUSTER_SOURCE
using pier::status::StatusService;

// Status, Events and leader election exist only against an API server.
std::unique_ptr<StatusService> MakeStatusService(const Flags& flags, pier::sources::Source& source,
                                                 prometheus::Gauge& is_leader) {
  auto* cluster = dynamic_cast<pier::kube::ClusterSource*>(&source);
  if (cluster == nullptr) return nullptr;
  pier::status::StatusServiceOptions options;
  options.publish.service = flags.publish_service;
  if (!flags.publish_status_address.empty()) {
    options.publish.addresses = pier::status::ParseStatusAddresses(flags.publish_status_address).value();
  }
  options.controller_name = flags.translate.controller_name;
  options.leader_elect = flags.leader_elect;
  options.election.name = flags.leader_election_id;
  options.election.namespace_ = !flags.leader_election_namespace.empty() ? flags.leader_election_namespace
                                : !cluster->config_namespace().empty()    ? cluster->config_namespace()
                                                                          : "default";
  options.on_leader_change = [&is_leader](bool leader) { is_leader.Set(leader ? 1 : 0); };
  return std::make_unique<StatusService>(cluster->client(), std::move(options));
}
#else
struct StatusService {};
std::unique_ptr<StatusService> MakeStatusService(const Flags&, pier::sources::Source&, prometheus::Gauge&) {
  return nullptr;
}
#endif

int Run(const Flags& flags) {
  const std::string instance = pier::server::NewControllerInstance();
  spdlog::info("pier-controller {} starting: instance {}, source {}", pier::Version(), instance,
               flags.source == "manifests" ? flags.manifests : "cluster");
  if (flags.source == "manifests" &&
      (flags.leader_elect || !flags.publish_service.empty() || !flags.publish_status_address.empty())) {
    spdlog::warn("--leader-elect, --publish-service and --publish-status-address apply to --source=cluster only; "
                 "ignored");
  }

  pier::metrics::RegisterBuildInfo(pier::Version());
  pier::metrics::RegisterProcessMetrics();
  auto& is_leader = pier::server::ControllerMetrics::Get().is_leader;
  is_leader.Set(flags.leader_elect && flags.source == "cluster" ? 0 : 1);
  pier::sources::WatchMetrics::Get();

  const sigset_t stop_signals = BlockStopSignals();

  auto source = MakeSource(flags);
  if (!source) {
    spdlog::error("{}", source.error());
    return kExitFailure;
  }
  std::unique_ptr<StatusService> status = MakeStatusService(flags, **source, is_leader);

  pier::server::SnapshotService service;
  auto grpc = pier::server::GrpcServer::Start(flags.grpc, service);
  if (!grpc) {
    spdlog::error("{}", grpc.error());
    return kExitFailure;
  }

  pier::server::EventLoopOptions loop_options;
  loop_options.translate = [translator = std::make_shared<pier::translate::SnapshotTranslator>(flags.translate)](
                               const pier::model::ClusterState& state) { return (*translator)(state); };
#if PIER_HAVE_CLUSTER_SOURCE
  if (status) loop_options.observe = status->Observer();
#endif
  pier::server::EventLoop loop(std::move(loop_options), instance,
                               [&service](pier::server::SnapshotMessage message) { service.Publish(std::move(message)); });
  auto& sink = loop.AddSource(flags.source);
  loop.Start();

  auto admin = pier::AdminServer::Start(flags.metrics_listen, {.routes = {}, .ready = [&loop] { return loop.HasSnapshot(); }});
  if (!admin) {
    spdlog::error("{}", admin.error());
    (*grpc)->Shutdown(kGrpcShutdownGrace);
    return kExitFailure;
  }

#if PIER_HAVE_CLUSTER_SOURCE
  if (status) status->Start();
#endif
  auto started = (*source)->Start(sink);
  if (!started) {
    spdlog::error("{}", started.error());
    (*grpc)->Shutdown(kGrpcShutdownGrace);
    return kExitFailure;
  }

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("{} received, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
#if PIER_HAVE_CLUSTER_SOURCE
  // First, so the lease is released (and another replica leads) without waiting for the rest.
  if (status) status->Stop();
#endif
  (*source)->Stop();
  (*grpc)->Shutdown(kGrpcShutdownGrace);
  loop.Stop();
  (*admin)->Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pier-controller: turns Ingress objects into snapshots for Pier dataplanes"};
  Flags flags;
  AddFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "pier-controller: " << e.what() << "\nRun with --help for usage.\n";
    return kExitUsage;
  }

  auto format = pier::log::ParseFormat(flags.log_format);
  if (!format) {
    std::cerr << "pier-controller: --log-format: " << format.error() << "\n";
    return kExitUsage;
  }
  if (auto logging = pier::log::Init({.format = *format, .level = flags.log_level, .component = "controller"});
      !logging) {
    std::cerr << "pier-controller: --log-level: " << logging.error() << "\n";
    return kExitUsage;
  }
  if (auto valid = Validate(flags); !valid) {
    std::cerr << "pier-controller: " << valid.error() << "\n";
    return kExitUsage;
  }
  return Run(flags);
}
