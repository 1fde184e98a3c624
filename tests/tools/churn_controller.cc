// pier-churn-controller: a stand-in controller that drives one dataplane through many
// snapshots, each acknowledged before the next is sent, so every one of them is really applied.
//
//   pier-churn-controller --port P --backend 127.0.0.1:PORT --snapshots N [--hosts K]
//                         [--interval-ms MS]
//
// On connect the dataplane gets version 1: the catch-all host routes "/" (WebSockets allowed)
// to the backend. On SIGUSR1 versions 2..N+1 follow back to back. Each one rotates K other
// virtual hosts (routes for other hosts added and removed), and every other one drops the
// backend's endpoint from its cluster altogether, so the live tunnels see both kinds of change.
// --interval-ms paces them (after each acknowledgement), so the churn lasts long enough for the
// tunnels to carry traffic all through it however fast the dataplane applies snapshots.
// Progress and the result go to stdout; SIGTERM ends the process.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include "fake_controller.h"

namespace {

using pier::dataplane::testing::FakeController;
namespace v1 = pier::v1;

struct Args {
  int port = 0;
  std::string backend_address;
  uint32_t backend_port = 0;
  int snapshots = 1000;
  int hosts = 20;
  int interval_ms = 0;
};

bool Parse(int argc, char** argv, Args& args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view name = argv[i];
    std::string value = argv[i + 1];
    if (name == "--port") {
      args.port = std::atoi(value.c_str());
    } else if (name == "--backend") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos) return false;
      args.backend_address = value.substr(0, colon);
      args.backend_port = static_cast<uint32_t>(std::atoi(value.c_str() + colon + 1));
    } else if (name == "--snapshots") {
      args.snapshots = std::atoi(value.c_str());
    } else if (name == "--hosts") {
      args.hosts = std::atoi(value.c_str());
    } else if (name == "--interval-ms") {
      args.interval_ms = std::atoi(value.c_str());
    } else {
      return false;
    }
  }
  return args.port > 0 && args.backend_port > 0 && args.snapshots > 0 && args.hosts > 0 && args.interval_ms >= 0;
}

void AddRoute(v1::VirtualHost& host, const std::string& service, const std::string& cluster) {
  auto* route = host.add_routes();
  route->set_name("default/" + service + "/0");
  route->mutable_ingress()->set_namespace_("default");
  route->mutable_ingress()->set_name(service);
  route->mutable_match()->set_type(v1::PathMatch::PREFIX);
  route->mutable_match()->set_path("/");
  route->set_cluster(cluster);
  route->set_service(service);
  route->mutable_websocket()->set_enabled(true);
}

v1::Cluster& AddCluster(v1::Snapshot& snapshot, const std::string& service) {
  auto* cluster = snapshot.add_clusters();
  cluster->set_name("default/" + service + ":80");
  cluster->set_service_namespace("default");
  cluster->set_service_name(service);
  return *cluster;
}

v1::Snapshot Build(const Args& args, uint64_t version) {
  v1::Snapshot snapshot;
  snapshot.set_version(version);
  snapshot.set_controller_instance("churn");
  auto& echo = AddCluster(snapshot, "echo");
  if (version % 2 == 1) {  // even versions: the endpoint is gone from the snapshot
    auto* endpoint = echo.add_endpoints();
    endpoint->set_address(args.backend_address);
    endpoint->set_port(args.backend_port);
  }
  AddRoute(*snapshot.add_virtual_hosts(), "echo", echo.name());
  for (int j = 0; j < args.hosts; ++j) {
    int n = static_cast<int>((version + static_cast<uint64_t>(j)) % static_cast<uint64_t>(2 * args.hosts));
    std::string service = "churn-" + std::to_string(n);
    auto& cluster = AddCluster(snapshot, service);
    auto* endpoint = cluster.add_endpoints();
    endpoint->set_address("127.0.0.1");
    endpoint->set_port(9);  // never dialled: nothing asks for these hosts
    auto* host = snapshot.add_virtual_hosts();
    host->set_host(service + ".example");
    AddRoute(*host, service, cluster.name());
  }
  return snapshot;
}

int Wait(const sigset_t& signals) {
  int signal = 0;
  sigwait(&signals, &signal);
  return signal;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!Parse(argc, argv, args)) {
    std::cerr << "usage: pier-churn-controller --port P --backend HOST:PORT [--snapshots N] [--hosts K] "
                 "[--interval-ms MS]\n";
    return 2;
  }
  // Blocked before gRPC starts its threads, so only sigwait below ever takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  FakeController controller(args.port);
  controller.Send(Build(args, 1));
  std::cout << "listening on 127.0.0.1:" << controller.port() << std::endl;
  if (!controller.WaitForAcks(1, std::chrono::minutes(5))) {
    std::cout << "no dataplane acknowledged version 1" << std::endl;
    return 1;
  }
  std::cout << "version 1 acknowledged, waiting for SIGUSR1" << std::endl;
  if (Wait(signals) != SIGUSR1) return 0;

  auto started = std::chrono::steady_clock::now();
  for (int i = 1; i <= args.snapshots; ++i) {
    controller.Send(Build(args, static_cast<uint64_t>(i) + 1));
    if (!controller.WaitForAcks(static_cast<std::size_t>(i) + 1, std::chrono::seconds(10))) {
      std::cout << "churn failed: version " << i + 1 << " not acknowledged" << std::endl;
      return 1;
    }
    if (i % 100 == 0) std::cout << "churn progress: " << i << std::endl;
    if (args.interval_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(args.interval_ms));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  for (const auto& ack : controller.acks()) {
    if (ack.accepted()) {
      ++accepted;
    } else {
      ++rejected;
      std::cout << "rejected version " << ack.version() << ": " << ack.error() << std::endl;
    }
  }
  std::cout << "churn done: snapshots=" << args.snapshots << " accepted=" << accepted << " rejected=" << rejected
            << " seconds=" << seconds << std::endl;
  Wait(signals);
  controller.Shutdown();
  return 0;
}
