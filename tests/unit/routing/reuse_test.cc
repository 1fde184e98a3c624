// Config::Build with the previous config must give exactly what a build from scratch gives, over
// random sequences of snapshots, and must actually take over what did not change.
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>

#include "routing/config.h"

namespace pier::dataplane {
namespace {

// Everything a request can observe of a compiled config, as text.
std::string Dump(const Config& config, const v1::Snapshot& snapshot) {
  std::ostringstream out;
  for (const auto& cluster : config.clusters()) {
    out << "cluster " << cluster->name << " " << cluster->service_namespace << "/" << cluster->service_name << " tls "
        << cluster->backend_tls.ShortDebugString() << "\n";
    for (const auto& endpoint : cluster->endpoints) {
      out << "  " << endpoint.id << " w" << endpoint.weight << (endpoint.fallback ? " fallback" : "") << "\n";
    }
  }
  for (const auto& vhost_proto : snapshot.virtual_hosts()) {
    const VirtualHostConfig* vhost = config.FindHost(vhost_proto.host());
    if (vhost == nullptr) {
      out << "host " << vhost_proto.host() << " missing\n";
      continue;
    }
    out << "host '" << vhost->host << "' cert " << vhost->tls_certificate << "\n";
    for (const auto& route : vhost->routes) {
      out << "  route " << route->name << " " << route->ingress_namespace << "/" << route->ingress_name << " svc "
          << route->service << " " << route->match_type << " " << route->path << " cluster "
          << (route->cluster ? route->cluster->name : "-") << " unavailable " << route->unavailable_status << " "
          << route->unavailable_reason << " t " << route->connect_timeout.count() << "/" << route->read_timeout.count()
          << "/" << route->send_timeout.count() << "/" << route->websocket_idle_timeout.count() << " ws "
          << route->websocket_enabled << route->websocket_disabled_reason << " body " << route->max_body_bytes
          << " buf " << route->buffer_bytes << " allow " << route->allow_sources.Contains(boost::asio::ip::make_address("10.0.0.1"))
          << " proto " << route->proto.ShortDebugString() << "\n";
      // A route must point at this config's cluster of that name, never an older one; so must
      // its custom-http-errors route.
      if (route->cluster) {
        bool found = false;
        for (const auto& cluster : config.clusters()) found |= cluster == route->cluster;
        out << "  cluster is current: " << found << "\n";
      }
      if (route->error_route) {
        bool found = false;
        for (const auto& cluster : config.clusters()) found |= cluster == route->error_route->cluster;
        out << "  error pages " << route->error_route->cluster->name << " current: " << found << "\n";
      }
    }
  }
  return out.str();
}

class RandomSnapshots {
 public:
  explicit RandomSnapshots(uint32_t seed) : random_(seed) {
    snapshot_.mutable_defaults()->set_read_timeout_ms(30000);
    for (int c = 0; c < 8; ++c) AddCluster(c);
    for (int h = 0; h < 10; ++h) AddHost(h == 0 ? "" : "h" + std::to_string(h) + ".example");
  }

  const v1::Snapshot& snapshot() const { return snapshot_; }

  // One random change, sometimes one that makes the snapshot invalid.
  void Mutate() {
    switch (Pick(10)) {
      case 0: {  // an endpoint moves
        v1::Cluster& cluster = *snapshot_.mutable_clusters(Pick(snapshot_.clusters_size()));
        if (cluster.endpoints_size() > 0) cluster.mutable_endpoints(0)->set_port(1000 + Pick(3));
        break;
      }
      case 1: {  // a route's path changes
        v1::VirtualHost& vhost = *snapshot_.mutable_virtual_hosts(Pick(snapshot_.virtual_hosts_size()));
        if (vhost.routes_size() > 0) vhost.mutable_routes(0)->mutable_match()->set_path("/p" + std::to_string(Pick(4)));
        break;
      }
      case 2: {  // a route moves to another cluster, or is closed
        v1::VirtualHost& vhost = *snapshot_.mutable_virtual_hosts(Pick(snapshot_.virtual_hosts_size()));
        if (vhost.routes_size() == 0) break;
        v1::Route& route = *vhost.mutable_routes(Pick(vhost.routes_size()));
        if (Pick(3) == 0) {
          route.mutable_unavailable()->set_status(503);
          route.mutable_unavailable()->set_reason("closed");
        } else {
          route.clear_unavailable();
          route.set_cluster(snapshot_.clusters(Pick(snapshot_.clusters_size())).name());
        }
        break;
      }
      case 3:  // the defaults change every route
        snapshot_.mutable_defaults()->set_read_timeout_ms(20000 + 1000 * Pick(3));
        break;
      case 4: {  // a cluster goes away (routes naming it make the snapshot invalid)
        if (snapshot_.clusters_size() > 2) {
          snapshot_.mutable_clusters()->SwapElements(Pick(snapshot_.clusters_size()), snapshot_.clusters_size() - 1);
          snapshot_.mutable_clusters()->RemoveLast();
        }
        break;
      }
      case 5:  // a new cluster
        AddCluster(next_cluster_++);
        break;
      case 6: {  // a host is added or removed
        if (Pick(2) == 0 && snapshot_.virtual_hosts_size() > 2) {
          snapshot_.mutable_virtual_hosts()->SwapElements(1, snapshot_.virtual_hosts_size() - 1);
          snapshot_.mutable_virtual_hosts()->RemoveLast();
        } else {
          AddHost("n" + std::to_string(next_host_++) + ".example");
        }
        break;
      }
      case 7: {  // an invalid address
        v1::Cluster& cluster = *snapshot_.mutable_clusters(Pick(snapshot_.clusters_size()));
        if (cluster.endpoints_size() > 0) cluster.mutable_endpoints(0)->set_address(Pick(2) ? "10.0.0.300" : "10.0.0.9");
        break;
      }
      case 8: {  // a route gets error pages from a cluster, or loses them
        v1::VirtualHost& vhost = *snapshot_.mutable_virtual_hosts(Pick(snapshot_.virtual_hosts_size()));
        if (vhost.routes_size() == 0) break;
        v1::Route& route = *vhost.mutable_routes(Pick(vhost.routes_size()));
        if (Pick(3) == 0) {
          route.clear_custom_http_errors();
        } else {
          route.mutable_custom_http_errors()->clear_codes();
          route.mutable_custom_http_errors()->add_codes(404);
          route.mutable_custom_http_errors()->set_cluster(snapshot_.clusters(Pick(snapshot_.clusters_size())).name());
        }
        break;
      }
      default: {  // a host's routes are reordered
        v1::VirtualHost& vhost = *snapshot_.mutable_virtual_hosts(Pick(snapshot_.virtual_hosts_size()));
        if (vhost.routes_size() > 1) vhost.mutable_routes()->SwapElements(0, vhost.routes_size() - 1);
      }
    }
    snapshot_.set_version(snapshot_.version() + 1);
  }

 private:
  int Pick(int n) { return static_cast<int>(random_() % static_cast<uint32_t>(n)); }

  void AddCluster(int c) {
    v1::Cluster& cluster = *snapshot_.add_clusters();
    cluster.set_name("ns/svc-" + std::to_string(c) + ":80");
    cluster.set_service_namespace("ns");
    cluster.set_service_name("svc-" + std::to_string(c));
    for (int e = 0, n = 1 + Pick(3); e < n; ++e) {
      v1::Endpoint& endpoint = *cluster.add_endpoints();
      endpoint.set_address("10.0." + std::to_string(c % 250) + "." + std::to_string(e + 1));
      endpoint.set_port(8080);
      endpoint.set_weight(1);
    }
  }

  void AddHost(const std::string& host) {
    v1::VirtualHost& vhost = *snapshot_.add_virtual_hosts();
    vhost.set_host(host);
    for (int r = 0, n = 1 + Pick(3); r < n; ++r) {
      v1::Route& route = *vhost.add_routes();
      route.set_name("ns/ing-" + host + "/0/" + std::to_string(r));
      route.mutable_ingress()->set_namespace_("ns");
      route.mutable_ingress()->set_name("ing");
      route.mutable_match()->set_type(v1::PathMatch::PREFIX);
      route.mutable_match()->set_path("/r" + std::to_string(r));
      route.set_cluster(snapshot_.clusters(Pick(snapshot_.clusters_size())).name());
      if (Pick(4) == 0) route.mutable_access()->add_allow_cidrs("10.0.0.0/8");
    }
  }

  std::mt19937 random_;
  v1::Snapshot snapshot_;
  int next_cluster_ = 8;
  int next_host_ = 0;
};

TEST(ConfigReuse, RandomSequencesGiveWhatAFullBuildGives) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    RandomSnapshots snapshots(seed);
    auto first = Config::Build(snapshots.snapshot());
    ASSERT_TRUE(first.ok()) << first.error();
    std::shared_ptr<const Config> current = *first;
    for (int step = 0; step < 60; ++step) {
      snapshots.Mutate();
      const v1::Snapshot& snapshot = snapshots.snapshot();
      auto scratch = Config::Build(snapshot);
      auto reused = Config::Build(snapshot, {}, current.get());
      ASSERT_EQ(scratch.ok(), reused.ok()) << "seed " << seed << " step " << step;
      if (!scratch.ok()) {
        EXPECT_EQ(scratch.error(), reused.error());
        continue;  // refused: the dataplane keeps `current`
      }
      ASSERT_EQ(Dump(**scratch, snapshot), Dump(**reused, snapshot)) << "seed " << seed << " step " << step;
      current = *reused;
    }
  }
}

TEST(ConfigReuse, UnchangedPartsAreTakenOverAndChangedOnesRebuilt) {
  RandomSnapshots snapshots(7);
  v1::Snapshot snapshot = snapshots.snapshot();
  auto first = Config::Build(snapshot);
  ASSERT_TRUE(first.ok());
  // One endpoint of the cluster that h1.example's first route uses changes.
  const std::string changed = snapshot.virtual_hosts(1).routes(0).cluster();
  for (auto& cluster : *snapshot.mutable_clusters()) {
    if (cluster.name() == changed) cluster.mutable_endpoints(0)->set_port(9999);
  }
  auto second = Config::Build(snapshot, {}, first->get());
  ASSERT_TRUE(second.ok());
  for (std::size_t i = 0; i < (*first)->clusters().size(); ++i) {
    const auto& before = (*first)->clusters()[i];
    const auto& after = (*second)->clusters()[i];
    EXPECT_EQ(before == after, before->name != changed) << before->name;
  }
  for (const auto& vhost : snapshot.virtual_hosts()) {
    const auto& before = (*first)->FindHost(vhost.host())->routes;
    const auto& after = (*second)->FindHost(vhost.host())->routes;
    bool uses_changed = false;
    for (const auto& route : vhost.routes()) uses_changed |= route.cluster() == changed;
    EXPECT_EQ(before == after, !uses_changed) << vhost.host();
    if (uses_changed) {
      for (const auto& route : after) {
        if (route->cluster && route->cluster->name == changed) {
          EXPECT_EQ(route->cluster->endpoints[0].address.port(), 9999);
        }
      }
    }
  }
  // Other build options compile every route again.
  BuildOptions options;
  options.read_timeout = std::chrono::milliseconds(1234);
  auto third = Config::Build(snapshot, options, second->get());
  ASSERT_TRUE(third.ok());
  EXPECT_NE((*third)->FindHost("h2.example")->routes, (*second)->FindHost("h2.example")->routes);
}

}  // namespace
}  // namespace pier::dataplane
