// pier-dataplane: wires flags to the proxy, the config client and the admin listener, then
// waits for SIGTERM/SIGINT and drains.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "admin/admin_endpoints.h"
#include "auth/basic_auth.h"
#include "auth/external_auth.h"
#include "admin/readiness.h"
#include "config/config_client.h"
#include "http/access_log.h"
#include "http/proxy_metrics.h"
#include "listener/proxy_server.h"
#include "pier/common/cidr.h"
#include "pier/common/log.h"
#include "pier/common/metrics.h"
#include "pier/common/parse.h"
#include "pier/common/process_metrics.h"
#include "pier/common/version.h"
#include "routing/config.h"

namespace pier::dataplane {
namespace {

// Flags as typed on the command line; Resolve turns them into the parts' options.
struct Flags {
  std::string controller = "127.0.0.1:18000";
  std::string grpc_tls_cert;
  std::string grpc_tls_key;
  std::string grpc_ca;
  std::string node_id;
  std::string http_listen = ":8080";
  std::string https_listen = ":8443";
  int https_redirect_port = 0;
  std::string admin_listen = ":9090";
  int threads = 0;
  std::string drain_timeout = "30s";
  std::string default_connect_timeout = "5s";
  std::string default_read_timeout = "60s";
  std::string default_send_timeout = "60s";
  std::string default_websocket_idle_timeout = "3600s";
  std::string default_proxy_body_size = "1m";
  std::string trusted_proxies;
  std::string max_header_bytes = "16k";
  std::string header_timeout = "10s";
  std::string tcp_keepalive = "60s";
  std::size_t max_connections = 0;
  bool proxy_protocol = false;
  bool access_log = true;
  std::string log_format = "text";
  std::string log_level = "info";
};

struct Settings {
  std::string admin_listen;
  ProxyOptions proxy;
  ConfigClientOptions client;
};

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "pier-dataplane";
  return name;
}

void AddFlags(CLI::App& app, Flags& flags) {
  app.add_option("--controller", flags.controller, "Controller gRPC address")->capture_default_str();
  app.add_option("--grpc-tls-cert", flags.grpc_tls_cert, "Client certificate (PEM) for mTLS to the controller");
  app.add_option("--grpc-tls-key", flags.grpc_tls_key, "Private key (PEM) of --grpc-tls-cert");
  app.add_option("--grpc-ca", flags.grpc_ca, "CA bundle (PEM) that signs the controller's certificate");
  app.add_option("--node-id", flags.node_id, "Name reported to the controller (default: hostname)");
  app.add_option("--http-listen", flags.http_listen, "Plain HTTP listener")->capture_default_str();
  app.add_option("--https-listen", flags.https_listen, "TLS listener (\"\" disables it)")->capture_default_str();
  app.add_option("--https-redirect-port", flags.https_redirect_port,
                 "Port that redirects to https:// name, when clients reach the HTTPS listener through another "
                 "port (a Service on 443); 0 = the HTTPS listener's own port")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--admin-listen", flags.admin_listen, "/metrics, /healthz, /readyz")->capture_default_str();
  app.add_option("--threads", flags.threads, "Proxy threads (default: cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--drain-timeout", flags.drain_timeout, "Longest graceful drain on SIGTERM")->capture_default_str();
  app.add_option("--default-connect-timeout", flags.default_connect_timeout, "Upstream connect timeout")
      ->capture_default_str();
  app.add_option("--default-read-timeout", flags.default_read_timeout, "Upstream read timeout")
      ->capture_default_str();
  app.add_option("--default-send-timeout", flags.default_send_timeout, "Upstream send timeout")
      ->capture_default_str();
  app.add_option("--default-websocket-idle-timeout", flags.default_websocket_idle_timeout,
                 "Tunnel closed after this long without bytes either way")
      ->capture_default_str();
  app.add_option("--default-proxy-body-size", flags.default_proxy_body_size,
                 "Largest request body, unless an Ingress sets proxy-body-size (0 = unlimited)")
      ->capture_default_str();
  app.add_option("--trusted-proxies", flags.trusted_proxies,
                 "Comma-separated CIDRs whose X-Forwarded-For and X-Forwarded-Proto are believed");
  app.add_option("--max-header-bytes", flags.max_header_bytes, "Largest request header block")
      ->capture_default_str();
  app.add_option("--header-timeout", flags.header_timeout, "Time allowed to send request headers")
      ->capture_default_str();
  app.add_option("--tcp-keepalive", flags.tcp_keepalive,
                 "Idle time before TCP keepalive probes on client and upstream connections (0 disables); "
                 "a WebSocket's upstream side gets them within 10s of the upgrade")
      ->capture_default_str();
  app.add_option("--max-connections", flags.max_connections,
                 "Client connections open at once; more are closed at accept (0 = no limit)")
      ->capture_default_str();
  app.add_flag("--proxy-protocol", flags.proxy_protocol,
               "Every connection starts with a PROXY protocol header (v1 or v2) from the load balancer in front; "
               "its source address is the client's");
  app.add_option("--access-log", flags.access_log,
                 "One JSON line per request, WebSocket and passed-through TLS connection on stdout; false writes none (Ingresses can also turn "
                 "it off with enable-access-log)")
      ->default_str("true");
  app.add_option("--log-format", flags.log_format, "text or json")->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error, critical, off")
      ->capture_default_str();
  app.set_version_flag("--version", std::string(pier::Version()));
}

Result<std::chrono::milliseconds> DurationFlag(const char* name, const std::string& text) {
  auto value = parse::Duration(text);
  if (!value) return Fail(std::string(name) + ": " + value.error());
  return *value;
}

Result<Settings> Resolve(const Flags& flags) {
  Settings settings;
  settings.admin_listen = flags.admin_listen;
  ProxyOptions& proxy = settings.proxy;
  proxy.http_listen = flags.http_listen;
  proxy.https_listen = flags.https_listen;
  proxy.https_redirect_port = static_cast<uint16_t>(flags.https_redirect_port);
  proxy.threads = flags.threads > 0 ? flags.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  BuildOptions& build = settings.client.build;
  struct {
    const char* name;
    const std::string& text;
    std::chrono::milliseconds& out;
  } durations[] = {
      {"--drain-timeout", flags.drain_timeout, proxy.drain_timeout},
      {"--header-timeout", flags.header_timeout, proxy.header_timeout},
      {"--default-connect-timeout", flags.default_connect_timeout, build.connect_timeout},
      {"--default-read-timeout", flags.default_read_timeout, build.read_timeout},
      {"--default-send-timeout", flags.default_send_timeout, build.send_timeout},
      {"--default-websocket-idle-timeout", flags.default_websocket_idle_timeout, build.websocket_idle_timeout},
  };
  for (auto& duration : durations) {
    auto value = DurationFlag(duration.name, duration.text);
    if (!value) return Fail(value.error());
    duration.out = *value;
  }
  auto keepalive = DurationFlag("--tcp-keepalive", flags.tcp_keepalive);
  if (!keepalive) return Fail(keepalive.error());
  if (keepalive->count() != 0 && *keepalive < std::chrono::seconds(1)) {
    return Fail("--tcp-keepalive must be 0 (off) or at least 1s");
  }
  proxy.tcp_keepalive_idle = std::chrono::duration_cast<std::chrono::seconds>(*keepalive);
  auto body_bytes = parse::Size(flags.default_proxy_body_size);
  if (!body_bytes) return Fail("--default-proxy-body-size: " + body_bytes.error());
  build.max_body_bytes = *body_bytes;
  auto header_bytes = parse::Size(flags.max_header_bytes);
  if (!header_bytes) return Fail("--max-header-bytes: " + header_bytes.error());
  if (*header_bytes == 0) return Fail("--max-header-bytes must be more than 0");
  proxy.max_header_bytes = static_cast<std::size_t>(*header_bytes);
  proxy.max_connections = flags.max_connections;
  proxy.proxy_protocol = flags.proxy_protocol;
  if (!flags.trusted_proxies.empty()) {
    auto cidrs = ParseCidrList(flags.trusted_proxies);
    if (!cidrs) return Fail("--trusted-proxies: " + cidrs.error());
    for (const Cidr& cidr : *cidrs) proxy.trusted_proxies.push_back(cidr.ToString());
  }

  ConfigClientOptions& client = settings.client;
  client.controller = flags.controller;
  client.node_id = flags.node_id.empty() ? Hostname() : flags.node_id;
  client.tls = ChannelTls{flags.grpc_tls_cert, flags.grpc_tls_key, flags.grpc_ca};
  // Per-route series stay while a route carries their labels (and while connections use them).
  client.applied = [](const Config& config) { http::RouteSeriesRegistry::Get().SetConfiguredFrom(config); };
  return settings;
}

// Blocks SIGTERM and SIGINT in this thread and every thread started after it, so they are only
// ever taken by sigwait in main rather than interrupting a worker at a random point.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int Run(const Settings& settings) {
  const sigset_t signals = BlockShutdownSignals();
  metrics::RegisterBuildInfo(pier::Version());
  metrics::RegisterProcessMetrics();
  basic_auth::RegisterMetrics();
  external_auth::RegisterMetrics();
  spdlog::info("pier-dataplane {} starting, node {}", pier::Version(), settings.client.node_id);

  ConfigStore store;
  Readiness readiness(store);
  auto admin = StartAdmin(settings.admin_listen, readiness);
  if (!admin) {
    spdlog::error("{}", admin.error());
    return 1;
  }
  auto proxy = ProxyServer::Create(settings.proxy, store);
  if (!proxy) {
    spdlog::error("{}", proxy.error());
    return 1;
  }
  if (auto started = (*proxy)->Start(); !started) {
    spdlog::error("{}", started.error());
    return 1;
  }
  auto client = ConfigClient::Create(settings.client, store);
  if (!client) {
    spdlog::error("{}", client.error());
    return 1;
  }
  (*client)->Start();

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("{} received: draining (at most {} ms; a second signal exits at once)",
               signal == SIGTERM ? "SIGTERM" : "SIGINT", settings.proxy.drain_timeout.count());
  // A second signal during the drain means "stop now": Ctrl-C twice at a terminal, or an
  // operator who will not wait for the drain timeout. Open tunnels and requests are cut.
  std::thread([signals] {
    int again = 0;
    sigwait(&signals, &again);
    spdlog::warn("{} received again: exiting without finishing the drain", again == SIGTERM ? "SIGTERM" : "SIGINT");
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }).detach();
  readiness.SetDraining();
  (*proxy)->Drain();
  (*proxy)->Wait();
  (*client)->Stop();
  (*admin)->Stop();
  spdlog::info("drained, exiting");
  return 0;
}

// CLI11 reads "--https-listen=" (empty, how a chart renders a disabled listener) as "no value
// here" and takes the next argument instead; split as "--https-listen" "" it is a plain empty
// value.
std::vector<std::string> SplitEmptyAssignments(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--") && arg.size() > 3 && arg.back() == '=' && arg.find('=') == arg.size() - 1) {
      args.emplace_back(arg.substr(0, arg.size() - 1));
      args.emplace_back();
    } else {
      args.emplace_back(arg);
    }
  }
  // CLI11 parses a vector from the back.
  std::reverse(args.begin(), args.end());
  return args;
}

int Main(int argc, char** argv) {
  CLI::App app{"pier-dataplane: the Pier HTTP and WebSocket proxy"};
  app.name("pier-dataplane");
  Flags flags;
  AddFlags(app, flags);
  try {
    app.parse(SplitEmptyAssignments(argc, argv));
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }

  auto format = log::ParseFormat(flags.log_format);
  if (!format) {
    std::fprintf(stderr, "--log-format: %s\n", format.error().c_str());
    return 2;
  }
  if (auto ok = log::Init({*format, flags.log_level, "dataplane"}); !ok) {
    std::fprintf(stderr, "--log-level: %s\n", ok.error().c_str());
    return 2;
  }
  http::SetAccessLogEnabled(flags.access_log);
  auto settings = Resolve(flags);
  if (!settings) {
    spdlog::error("{}", settings.error());
    return 2;
  }
  return Run(*settings);
}

}  // namespace
}  // namespace pier::dataplane

int main(int argc, char** argv) { return pier::dataplane::Main(argc, argv); }
