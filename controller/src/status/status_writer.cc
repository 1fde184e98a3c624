#include "status/status_writer.h"

#include <spdlog/spdlog.h>

#include "kube/resource.h"

namespace pier::status {
namespace {

constexpr std::string_view kIngressApiVersion = "networking.k8s.io/v1";
constexpr std::string_view kIngressPlural = "ingresses";
// A Conflict means the Ingress changed between our GET and PUT; a few quick re-reads settle it,
// anything more persistent waits for the caller's backoff.
constexpr int kConflictAttempts = 3;

Addresses StatusOf(const nlohmann::json& ingress) {
  Addresses out;
  const auto status = ingress.find("status");
  if (status == ingress.end() || !status->is_object()) return out;
  const auto lb = status->find("loadBalancer");
  if (lb == status->end() || !lb->is_object()) return out;
  const auto entries = lb->find("ingress");
  if (entries == lb->end() || !entries->is_array()) return out;
  for (const auto& entry : *entries) {
    if (!entry.is_object()) continue;
    model::LoadBalancerIngress item;
    if (auto ip = entry.find("ip"); ip != entry.end() && ip->is_string()) item.ip = ip->get<std::string>();
    if (auto host = entry.find("hostname"); host != entry.end() && host->is_string()) {
      item.hostname = host->get<std::string>();
    }
    out.push_back(std::move(item));
  }
  return out;
}

nlohmann::json ToJson(const Addresses& addresses) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& entry : addresses) {
    nlohmann::json item = nlohmann::json::object();
    if (!entry.ip.empty()) item["ip"] = entry.ip;
    if (!entry.hostname.empty()) item["hostname"] = entry.hostname;
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace

StatusSyncResult StatusWriter::Sync(const std::vector<IngressStatusView>& ingresses, const Addresses& published,
                                    std::stop_token stop) {
  StatusSyncResult result;
  for (const auto& view : ingresses) {
    if (stop.stop_requested()) break;
    const Addresses desired = DesiredStatus(view.served, view.current, published);
    if (SameAddresses(desired, view.current)) continue;
    const std::string key = view.namespace_ + "/" + view.name;
    if (auto it = written_.find(key); it != written_.end() && it->second.seen_resource_version == view.resource_version &&
                                      SameAddresses(it->second.status, desired)) {
      continue;
    }
    switch (Write(view, published)) {
      case WriteResult::kWritten:
        ++result.written;
        written_[key] = Written{view.resource_version, desired};
        break;
      case WriteResult::kUnchanged:
        written_[key] = Written{view.resource_version, desired};
        break;
      case WriteResult::kGone:
        written_.erase(key);
        break;
      case WriteResult::kFailed:
        ++result.failed;
        break;
    }
  }
  // Entries for Ingresses the informer no longer has would otherwise pile up.
  if (written_.size() > ingresses.size()) {
    std::map<std::string, Written> kept;
    for (const auto& view : ingresses) {
      const std::string key = view.namespace_ + "/" + view.name;
      if (auto it = written_.find(key); it != written_.end()) kept.insert(*it);
    }
    written_ = std::move(kept);
  }
  return result;
}

StatusWriter::WriteResult StatusWriter::Write(const IngressStatusView& view, const Addresses& published) {
  const std::string path = kube::ObjectPath(kIngressApiVersion, kIngressPlural, true, view.namespace_, view.name);
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    auto ingress = client_.Get(path);
    if (!ingress) {
      if (ingress.error().http_status == 404) return WriteResult::kGone;
      spdlog::warn("status: reading ingress {}/{} failed: {}", view.namespace_, view.name, ingress.error().Describe());
      return WriteResult::kFailed;
    }
    const Addresses current = StatusOf(*ingress);
    // Judged again on the fresh copy: another writer may already have set it.
    const Addresses desired = DesiredStatus(view.served, current, published);
    if (SameAddresses(desired, current)) return WriteResult::kUnchanged;
    nlohmann::json object = std::move(*ingress);
    object["status"]["loadBalancer"]["ingress"] = ToJson(desired);
    auto updated = client_.UpdateStatus(path, object);
    if (updated) {
      spdlog::info("status: ingress {}/{} load balancer set to {}", view.namespace_, view.name,
                   ToJson(desired).dump());
      return WriteResult::kWritten;
    }
    if (updated.error().http_status == 404) return WriteResult::kGone;
    if (updated.error().http_status != 409) {
      spdlog::warn("status: updating ingress {}/{} failed: {}", view.namespace_, view.name,
                   updated.error().Describe());
      return WriteResult::kFailed;
    }
  }
  spdlog::info("status: ingress {}/{} kept changing under us; retrying later", view.namespace_, view.name);
  return WriteResult::kFailed;
}

}  // namespace pier::status
