#include "status/ingress_status.h"

#include <algorithm>

namespace pier::status {
namespace {

void SortUnique(Addresses& addresses) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
}

}  // namespace

Addresses PublishedAddresses(const model::Service& service) {
  Addresses out;
  for (const auto& entry : service.load_balancer) {
    if (!entry.ip.empty() || !entry.hostname.empty()) out.push_back(entry);
  }
  if (out.empty() && !service.cluster_ip.empty() && service.cluster_ip != "None") {
    out.push_back({.ip = service.cluster_ip, .hostname = ""});
  }
  SortUnique(out);
  return out;
}

Addresses DesiredStatus(bool served, const Addresses& current, const Addresses& published) {
  if (served) return published;
  Addresses kept;
  for (const auto& entry : current) {
    if (std::find(published.begin(), published.end(), entry) == published.end()) kept.push_back(entry);
  }
  return kept;
}

bool SameAddresses(Addresses a, Addresses b) {
  SortUnique(a);
  SortUnique(b);
  return a == b;
}

}  // namespace pier::status
