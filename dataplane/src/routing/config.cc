// Request matching against a compiled Config: the per-request part, so nothing here allocates
// for a normal Host header.
#include "routing/config.h"

#include <algorithm>

#include "pier/common/match.h"
#include "routing/host_name.h"

namespace pier::dataplane {
namespace {

const VirtualHostConfig* LookUp(const std::vector<VirtualHostConfig>& sorted, std::string_view host) noexcept {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), host,
                             [](const VirtualHostConfig& vhost, std::string_view h) { return vhost.host < h; });
  return it != sorted.end() && it->host == host ? &*it : nullptr;
}

std::shared_ptr<const RouteConfig> FirstMatch(const VirtualHostConfig* vhost, std::string_view path) {
  if (vhost == nullptr) return nullptr;
  for (const auto& route : vhost->routes) {
    if (match::PathMatches(route->match_type == v1::PathMatch::EXACT, route->path, path)) return route;
  }
  return nullptr;
}

// Calls `visit` with the exact, then the wildcard, then the catch-all virtual host that apply to
// `host`, stopping when it returns true.
template <class Visit>
void ForEachCandidate(const std::vector<VirtualHostConfig>& exact, const std::vector<VirtualHostConfig>& wildcard,
                      const std::optional<VirtualHostConfig>& catch_all, std::string_view host, Visit&& visit) {
  if (const VirtualHostConfig* vhost = LookUp(exact, host); vhost != nullptr && visit(vhost)) return;
  // "*.example.com" is stored under that name; the candidate for "a.example.com" is "*" plus
  // everything from the first dot. HostMatches has the last word on the one-label rule.
  const auto dot = host.find('.');
  if (dot != std::string_view::npos && dot > 0) {
    const std::string_view suffix = host.substr(dot);
    auto it = std::lower_bound(wildcard.begin(), wildcard.end(), suffix,
                               [](const VirtualHostConfig& vhost, std::string_view s) {
                                 return std::string_view(vhost.host).substr(1) < s;
                               });
    if (it != wildcard.end() && std::string_view(it->host).substr(1) == suffix &&
        match::HostMatches(it->host, host) && visit(&*it)) {
      return;
    }
  }
  if (catch_all) visit(&*catch_all);
}

}  // namespace

const VirtualHostConfig* Config::FindNormalizedHost(std::string_view host) const noexcept {
  const VirtualHostConfig* found = nullptr;
  ForEachCandidate(exact_hosts_, wildcard_hosts_, catch_all_, host, [&](const VirtualHostConfig* vhost) {
    found = vhost;
    return true;
  });
  return found;
}

const VirtualHostConfig* Config::FindHost(std::string_view host) const {
  if (IsNormalizedHost(host)) return FindNormalizedHost(host);
  return FindNormalizedHost(match::NormalizeHost(host));
}

// A host whose routes do not match the path falls through to the next candidate: Kubernetes
// sends "no path matches" to the default backend, which lives in the catch-all host, and a
// host-less rule applies to every host.
std::shared_ptr<const RouteConfig> Config::Match(std::string_view host, std::string_view path) const {
  std::string normalized;
  if (!IsNormalizedHost(host)) {
    normalized = match::NormalizeHost(host);
    host = normalized;
  }
  std::shared_ptr<const RouteConfig> route;
  ForEachCandidate(exact_hosts_, wildcard_hosts_, catch_all_, host, [&](const VirtualHostConfig* vhost) {
    route = FirstMatch(vhost, path);
    return route != nullptr;
  });
  return route;
}

}  // namespace pier::dataplane
