// Test fixture: builds snapshots one fluent call at a time, e.g.
//   SnapshotBuilder().Cluster("ns/app:80", {"10.0.0.1"}).Host("a.example").Prefix("/", "ns/app:80")
#pragma once

#include <initializer_list>
#include <string>

#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::testing {

class SnapshotBuilder {
 public:
  SnapshotBuilder() { snapshot_.set_version(1); snapshot_.set_controller_instance("test"); }

  SnapshotBuilder& Version(uint64_t version) {
    snapshot_.set_version(version);
    return *this;
  }
  SnapshotBuilder& Cluster(const std::string& name, std::initializer_list<const char*> addresses = {"10.0.0.1"},
                           uint32_t port = 8080) {
    v1::Cluster* cluster = snapshot_.add_clusters();
    cluster->set_name(name);
    for (const char* address : addresses) {
      v1::Endpoint* endpoint = cluster->add_endpoints();
      endpoint->set_address(address);
      endpoint->set_port(port);
    }
    return *this;
  }
  // Starts a virtual host; the route calls after it add to it.
  SnapshotBuilder& Host(const std::string& host) {
    vhost_ = snapshot_.add_virtual_hosts();
    vhost_->set_host(host);
    return *this;
  }
  SnapshotBuilder& Prefix(const std::string& path, const std::string& cluster = "c") {
    return AddRoute(v1::PathMatch::PREFIX, path, cluster);
  }
  SnapshotBuilder& Exact(const std::string& path, const std::string& cluster = "c") {
    return AddRoute(v1::PathMatch::EXACT, path, cluster);
  }
  v1::Route& LastRoute() { return *vhost_->mutable_routes(vhost_->routes_size() - 1); }
  v1::VirtualHost& LastHost() { return *vhost_; }
  v1::Snapshot& Get() { return snapshot_; }

 private:
  SnapshotBuilder& AddRoute(v1::PathMatch::Type type, const std::string& path, const std::string& cluster) {
    if (vhost_ == nullptr) Host("");
    v1::Route* route = vhost_->add_routes();
    route->set_name(vhost_->host() + (type == v1::PathMatch::EXACT ? " exact " : " prefix ") + path);
    route->mutable_match()->set_type(type);
    route->mutable_match()->set_path(path);
    route->set_cluster(cluster);
    route->mutable_websocket()->set_enabled(true);
    return *this;
  }

  v1::Snapshot snapshot_;
  v1::VirtualHost* vhost_ = nullptr;
};

}  // namespace pier::dataplane::testing
