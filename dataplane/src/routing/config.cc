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
    if (route->is_canary) continue;
    if (route->regex ? route->regex->Matches(path)
                     : match::PathMatches(route->match_type == v1::PathMatch::EXACT, route->path, path)) {
      return route;
    }
  }
  return nullptr;
}

// The exact virtual host for `host`, else its one-label wildcard, else the catch-all.
const VirtualHostConfig* MostSpecific(const std::vector<VirtualHostConfig>& exact,
                                      const std::vector<VirtualHostConfig>& wildcard,
                                      const std::optional<VirtualHostConfig>& catch_all, std::string_view host) {
  if (const VirtualHostConfig* vhost = LookUp(exact, host); vhost != nullptr) return vhost;
  // "*.example.com" is stored under that name; the candidate for "a.example.com" is "*" plus
  // everything from the first dot. HostMatches has the last word on the one-label rule.
  const auto dot = host.find('.');
  if (dot != std::string_view::npos && dot > 0) {
    const std::string_view suffix = host.substr(dot);
    auto it = std::lower_bound(wildcard.begin(), wildcard.end(), suffix,
                               [](const VirtualHostConfig& vhost, std::string_view s) {
                                 return std::string_view(vhost.host).substr(1) < s;
                               });
    if (it != wildcard.end() && std::string_view(it->host).substr(1) == suffix && match::HostMatches(it->host, host)) {
      return &*it;
    }
  }
  return catch_all ? &*catch_all : nullptr;
}

}  // namespace

const VirtualHostConfig* Config::FindNormalizedHost(std::string_view host) const noexcept {
  return MostSpecific(exact_hosts_, wildcard_hosts_, catch_all_, host);
}

const VirtualHostConfig* Config::FindCompiledHost(std::string_view host) const noexcept {
  if (host.empty()) return catch_all_ ? &*catch_all_ : nullptr;
  return LookUp(match::IsWildcardHost(host) ? wildcard_hosts_ : exact_hosts_, host);
}

const VirtualHostConfig* Config::FindHost(std::string_view host) const {
  if (IsNormalizedHost(host)) return FindNormalizedHost(host);
  return FindNormalizedHost(match::NormalizeHost(host));
}

// The most specific virtual host that exists decides alone: a path that none of its routes
// match is a 404, it does not fall through to a wildcard or host-less rule (as with
// ingress-nginx, whose users expect one server block per host). An Ingress' own defaultBackend
// is already a route in each of its hosts, put there by the controller.
std::shared_ptr<const RouteConfig> Config::Match(std::string_view host, std::string_view path) const {
  std::string normalized;
  if (!IsNormalizedHost(host)) {
    normalized = match::NormalizeHost(host);
    host = normalized;
  }
  return FirstMatch(FindNormalizedHost(host), path);
}

}  // namespace pier::dataplane
