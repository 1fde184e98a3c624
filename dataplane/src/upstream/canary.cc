#include "upstream/canary.h"

#include <random>

#include "upstream/affinity_cookie.h"

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

}  // namespace

uint32_t CanaryTotal(const pier::v1::Canary& rules) noexcept {
  return rules.weight_total() != 0 ? rules.weight_total() : 100;
}

bool WantsCanary(const RouteConfig& route, const bhttp::fields& request, uint32_t draw) {
  const pier::v1::Canary& rules = route.proto.canary();
  if (const Verdict verdict = ByHeader(route, request); verdict != Verdict::kUndecided) return verdict == Verdict::kCanary;
  if (const Verdict verdict = ByCookie(rules, request); verdict != Verdict::kUndecided) return verdict == Verdict::kCanary;
  return rules.weight() != 0 && draw <= rules.weight();
}

uint32_t DrawCanary(uint32_t total) {
  thread_local std::minstd_rand generator{std::random_device{}()};
  return std::uniform_int_distribution<uint32_t>(1, total)(generator);
}

}  // namespace pier::dataplane::upstream
