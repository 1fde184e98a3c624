#include "translate/backends.h"

#include <boost/asio/ip/address.hpp>

#include <cstdio>
#include <set>
#include <string_view>
#include <utility>

namespace pier::translate {
namespace {

// Kubernetes: an unset `ready` means ready ("should be interpreted as unknown" and consumers
// treat it as ready); `serving`/`terminating` must be set explicitly to count.
bool IsReady(const model::EndpointConditions& conditions) { return conditions.ready.value_or(true); }
bool IsServingTerminating(const model::EndpointConditions& conditions) {
  return conditions.serving.value_or(false) && conditions.terminating.value_or(false);
}

// Canonical text of an IP literal, or "" when it is not one the dataplane can dial.
std::string CanonicalAddress(const std::string& text) {
  if (text.find('%') != std::string::npos) return {};
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(text, ec);
  return ec ? std::string() : address.to_string();
}

const model::ServicePort* FindPort(const model::Service& service, const model::ServiceBackendPort& port) {
  for (const model::ServicePort& candidate : service.ports) {
    if (port.number ? candidate.port == *port.number : candidate.name == port.name) return &candidate;
  }
  return nullptr;
}

std::string DescribePort(const model::ServiceBackendPort& port) {
  return port.number ? std::to_string(*port.number) : "\"" + port.name + "\"";
}

// FNV-1a: stable across runs and builds (std::hash is not), so names stay deterministic.
uint64_t StableHash(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string ClusterName(const std::string& service_key, int32_t port, const pier::v1::BackendTls& tls) {
  std::string name = service_key + ":" + std::to_string(port);
  if (!tls.enabled()) return name;
  name += "+tls";
  pier::v1::BackendTls defaults;
  defaults.set_enabled(true);
  defaults.set_verify_depth(1);
  if (tls.SerializeAsString() == defaults.SerializeAsString()) return name;
  // Separators that cannot occur in a host name keep ("a", "bc") and ("ab", "c") apart. The
  // client certificate (never its key) counts: connections made with another one are not reused.
  std::string identity = std::string(tls.verify() ? "1" : "0") + '\n' + tls.server_name() + '\n' + tls.ca_pem();
  if (!tls.client_certificate_chain_pem().empty()) identity += "\n\n" + tls.client_certificate_chain_pem();
  // The other settings, only where they differ from the defaults, so the names of clusters
  // that do not use them stay what they were.
  if (tls.no_server_name() || tls.verify_depth() != 1 || !tls.ciphers().empty() || tls.min_protocol() != 0 ||
      tls.max_protocol() != 0) {
    identity += "\n\n" + std::to_string(tls.no_server_name()) + " " + std::to_string(tls.verify_depth()) + " " +
                std::to_string(tls.min_protocol()) + "-" + std::to_string(tls.max_protocol()) + " " + tls.ciphers();
  }
  const uint64_t hash = StableHash(identity);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return name + "-" + std::string(hex, 8);
}

}  // namespace

BackendResolver::BackendResolver(const model::ClusterState& state, ClusterCache* cache) : state_(state), cache_(cache) {}

ResolvedBackend BackendResolver::Resolve(const model::Ingress& ingress, const model::IngressBackend& backend,
                                         const pier::v1::BackendTls& tls, WarningSink& warnings, bool service_upstream) {
  ResolvedBackend out;
  if (!backend.service) {
    const std::string reason =
        backend.has_resource ? "resource backends are not supported" : "the backend names no service";
    warnings.Add(ingress, "UnsupportedBackend", reason);
    out.unresolved = Unresolved{503, reason};
    return out;
  }
  out.service = backend.service->name;
  const std::string service_key = ingress.meta.namespace_ + "/" + backend.service->name;
  const auto service_it = state_.services.find(service_key);
  if (service_it == state_.services.end()) {
    const std::string reason = "service " + service_key + " not found";
    warnings.Add(ingress, "MissingService", reason);
    out.unresolved = Unresolved{503, reason};
    return out;
  }
  const model::Service& service = service_it->second;
  if (service.type == "ExternalName") {
    const std::string reason = "service " + service_key + " is an ExternalName service, which is not supported";
    warnings.Add(ingress, "UnsupportedBackend", reason);
    out.unresolved = Unresolved{503, reason};
    return out;
  }
  const model::ServicePort* port = FindPort(service, backend.service->port);
  if (port == nullptr) {
    const std::string reason = "service " + service_key + " has no port " + DescribePort(backend.service->port);
    warnings.Add(ingress, "MissingService", reason);
    out.unresolved = Unresolved{503, reason};
    return out;
  }

  if (service_upstream) {
    // kube-proxy (or a mesh's sidecar) balances behind the cluster IP; Pier sees one endpoint.
    const std::string address = CanonicalAddress(service.cluster_ip);
    if (address.empty()) {
      const std::string reason = "service " + service_key + " has no cluster IP (\"" + service.cluster_ip +
                                 "\"), which service-upstream needs";
      warnings.Add(ingress, "MissingService", reason);
      out.unresolved = Unresolved{503, reason};
      return out;
    }
    out.cluster = ClusterName(service_key, port->port, tls) + "@cluster-ip";
    if (!clusters_.contains(out.cluster)) {
      pier::v1::Cluster cluster;
      cluster.set_name(out.cluster);
      cluster.set_service_namespace(service.meta.namespace_);
      cluster.set_service_name(service.meta.name);
      if (tls.enabled()) *cluster.mutable_backend_tls() = tls;
      pier::v1::Endpoint* endpoint = cluster.add_endpoints();
      endpoint->set_address(address);
      endpoint->set_port(static_cast<uint32_t>(port->port));
      endpoint->set_weight(1);
      clusters_.emplace(out.cluster, std::move(cluster));
    }
    return out;
  }

  out.cluster = ClusterName(service_key, port->port, tls);
  auto it = clusters_.find(out.cluster);
  if (it == clusters_.end()) {
    it = clusters_.emplace(out.cluster, CachedOrBuild(out.cluster, service_key, service, *port, tls)).first;
  }
  if (it->second.endpoints().empty()) {
    warnings.Add(ingress, "NoEndpoints",
                 "service " + service_key + ":" + std::to_string(port->port) + " has no ready endpoints");
  }
  return out;
}

bool BackendResolver::HasEndpoints(const std::string& cluster) const {
  const auto it = clusters_.find(cluster);
  return it != clusters_.end() && it->second.endpoints_size() > 0;
}

pier::v1::Cluster BackendResolver::CachedOrBuild(const std::string& name, const std::string& service_key,
                                                 const model::Service& service, const model::ServicePort& port,
                                                 const pier::v1::BackendTls& tls) {
  if (cache_ == nullptr) return BuildCluster(name, service, port, tls);
  ClusterCache::Key key;
  if (const auto revision = state_.backend_revisions.find(service_key); revision != state_.backend_revisions.end()) {
    key.revision = revision->second;
  }
  key.port_name = port.name;
  key.tls = tls.SerializeAsString();
  if (const pier::v1::Cluster* cached = cache_->Find(name, key)) return *cached;
  pier::v1::Cluster cluster = BuildCluster(name, service, port, tls);
  cache_->Store(name, std::move(key), cluster);
  return cluster;
}

pier::v1::Cluster BackendResolver::BuildCluster(std::string name, const model::Service& service,
                                                const model::ServicePort& port, const pier::v1::BackendTls& tls) {
  if (!indexed_) {
    for (const auto& [key, slice] : state_.endpoint_slices) {
      if (slice.service_name.empty()) continue;
      slices_by_service_[slice.meta.namespace_ + "/" + slice.service_name].push_back(&slice);
    }
    indexed_ = true;
  }
  pier::v1::Cluster cluster;
  cluster.set_name(std::move(name));
  cluster.set_service_namespace(service.meta.namespace_);
  cluster.set_service_name(service.meta.name);
  if (tls.enabled()) *cluster.mutable_backend_tls() = tls;

  // The union of every slice of the Service, each endpoint once; ready ones, else the
  // serving-and-terminating ones so a rollout's last pods still answer.
  std::set<std::pair<std::string, uint32_t>> ready;
  std::set<std::pair<std::string, uint32_t>> fallback;
  const auto slices = slices_by_service_.find(model::KeyOf(service.meta));
  if (slices != slices_by_service_.end()) {
    for (const model::EndpointSlice* slice : slices->second) {
      if (slice->address_type == "FQDN") continue;
      std::optional<int32_t> target;
      for (const model::EndpointPort& slice_port : slice->ports) {
        if (slice_port.name == port.name) target = slice_port.port;
      }
      if (!target || *target < 1 || *target > 65535) continue;
      for (const model::Endpoint& endpoint : slice->endpoints) {
        const bool is_ready = IsReady(endpoint.conditions);
        if (!is_ready && !IsServingTerminating(endpoint.conditions)) continue;
        for (const std::string& address : endpoint.addresses) {
          std::string canonical = CanonicalAddress(address);
          if (canonical.empty()) continue;
          (is_ready ? ready : fallback).emplace(std::move(canonical), static_cast<uint32_t>(*target));
        }
      }
    }
  }
  const bool use_fallback = ready.empty();
  for (const auto& [address, number] : use_fallback ? fallback : ready) {
    pier::v1::Endpoint* endpoint = cluster.add_endpoints();
    endpoint->set_address(address);
    endpoint->set_port(number);
    endpoint->set_weight(1);
    endpoint->set_fallback(use_fallback);
  }
  return cluster;
}

std::vector<pier::v1::Cluster> BackendResolver::TakeClusters() {
  std::vector<pier::v1::Cluster> out;
  out.reserve(clusters_.size());
  for (auto& [name, cluster] : clusters_) out.push_back(std::move(cluster));
  clusters_.clear();
  if (cache_ != nullptr) cache_->EndBuild();
  return out;
}

}  // namespace pier::translate
