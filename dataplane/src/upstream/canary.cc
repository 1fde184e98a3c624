#include "upstream/canary.h"

#include <random>

#include "upstream/affinity_cookie.h"
#include "upstream/balancer.h"

namespace pier::dataplane::upstream {

namespace bhttp = boost::beast::http;

namespace {

enum class Verdict { kCanary, kMain, kUndecided };

Verdict ByHeader(const RouteConfig& route, const bhttp::fields& request) {
  const pier::v1::Canary& rules = route.proto.canary();
  if (rules.header().empty()) return Verdict::kUndecided;
  const auto it = request.find(rules.header());
  if (it == request.end()) return Verdict::kUndecided;
  const std::string_view value = it->value();
  if (!rules.header_value().empty()) return value == rules.header_value() ? Verdict::kCanary : Verdict::kUndecided;
  if (route.canary_header_pattern) {
    return route.canary_header_pattern->Search(value) ? Verdict::kCanary : Verdict::kUndecided;
  }
  if (value == "always") return Verdict::kCanary;
  if (value == "never") return Verdict::kMain;
  return Verdict::kUndecided;
}

Verdict ByCookie(const pier::v1::Canary& rules, const bhttp::fields& request) {
  if (rules.cookie().empty()) return Verdict::kUndecided;
  auto [begin, end] = request.equal_range(bhttp::field::cookie);
  for (auto it = begin; it != end; ++it) {
    const auto value = FindCookie(it->value(), rules.cookie());
    if (!value) continue;
    if (*value == "always") return Verdict::kCanary;
    if (*value == "never") return Verdict::kMain;
    return Verdict::kUndecided;
  }
  return Verdict::kUndecided;
}

Verdict ByRequest(const RouteConfig& route, const bhttp::fields& request) {
  if (const Verdict verdict = ByHeader(route, request); verdict != Verdict::kUndecided) return verdict;
  return ByCookie(route.proto.canary(), request);
}

bool ByWeight(const pier::v1::Canary& rules, uint32_t draw) { return rules.weight() != 0 && draw <= rules.weight(); }

}  // namespace

uint32_t CanaryTotal(const pier::v1::Canary& rules) noexcept {
  return rules.weight_total() != 0 ? rules.weight_total() : 100;
}

bool WantsCanary(const RouteConfig& route, const bhttp::fields& request, uint32_t draw) {
  if (const Verdict verdict = ByRequest(route, request); verdict != Verdict::kUndecided) return verdict == Verdict::kCanary;
  return ByWeight(route.proto.canary(), draw);
}

bool ChooseCanary(const RouteConfig& main, const bhttp::fields& request, BalancerSet& balancers) {
  if (const Verdict verdict = ByRequest(main, request); verdict != Verdict::kUndecided) return verdict == Verdict::kCanary;
  // A weight of none or all is the operator's word for everyone: affinity only keeps a client
  // where it was while the weight splits.
  const pier::v1::Canary& rules = main.proto.canary();
  const uint32_t total = CanaryTotal(rules);
  if (rules.weight() == 0) return false;
  if (rules.weight() >= total) return true;
  // The main route first, as ingress-nginx: with one cookie name for both, a token can only
  // name an endpoint of both when they share one, and the main route keeps that client.
  // affinity-canary-behavior: legacy draws for every client.
  if (!rules.ignore_affinity()) {
    if (balancers.Pinned(main, request)) return false;
    if (main.canary && balancers.Pinned(*main.canary, request)) return true;
  }
  return ByWeight(rules, DrawCanary(total));
}

uint32_t DrawCanary(uint32_t total) {
  thread_local std::minstd_rand generator{std::random_device{}()};
  return std::uniform_int_distribution<uint32_t>(1, total)(generator);
}

}  // namespace pier::dataplane::upstream
