#include "limits/admission.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "limits/origin.h"
#include "limits/source_access.h"

namespace pier::dataplane::limits {

namespace {

constexpr unsigned kForbidden = 403;
constexpr unsigned kTooManyRequests = 429;

const Clock& DefaultClock() {
  static const SteadyClock clock;
  return clock;
}

std::string ClientText(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

bool OriginAllowedOnRoute(std::string_view origin, const RouteConfig& route) {
  const auto parsed = ParseOrigin(origin);
  if (!parsed) return false;
  const auto& allowed = route.proto.websocket().allowed_origins();
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& entry) { return OriginMatches(*parsed, entry); });
}

std::string FormatRate(double per_second) {
  // Whole numbers as such ("20 requests per second"); limit-rpm rates as per minute.
  if (per_second >= 1 && per_second == std::floor(per_second)) {
    return std::to_string(static_cast<uint64_t>(per_second)) + " requests per second";
  }
  return std::to_string(static_cast<uint64_t>(std::llround(per_second * 60))) + " requests per minute";
}

}  // namespace

AdmissionControl::AdmissionControl(const Clock& clock, Options options)
    : clock_(clock),
      metrics_(options.export_metrics ? &LimitMetrics::Get() : nullptr),
      connections_(metrics_ ? ConnectionLimiter::Gauges{&metrics_->connections_counted, &metrics_->connection_entries}
                            : ConnectionLimiter::Gauges{}),
      rates_(options.rate, metrics_ ? &metrics_->rate_buckets : nullptr) {}

AdmissionControl::AdmissionControl() : AdmissionControl(DefaultClock(), Options{}) {}

Admission AdmissionControl::Refuse(RefusalReason reason, unsigned status, std::string message, uint32_t retry_after_s) {
  if (metrics_ != nullptr) metrics_->CountRefusal(reason);
  Admission admission;
  admission.refusal = Refusal{status, reason, std::move(message), retry_after_s};
  return admission;
}

Admission AdmissionControl::Admit(const AdmissionRequest& request) {
  const RouteConfig& route = request.route;
  const SourceVerdict source = CheckSource(request.client, route.allow_sources, route.deny_sources);
  switch (request.source_or_credentials ? SourceVerdict::kAllowed : source) {
    case SourceVerdict::kAllowed: break;
    case SourceVerdict::kDenied:
      return Refuse(RefusalReason::kDeniedSource, kForbidden,
                    "client " + ClientText(request.client) + " is denied by denylist-source-range");
    case SourceVerdict::kNotAllowed:
      return Refuse(RefusalReason::kDeniedSource, kForbidden,
                    "client " + ClientText(request.client) + " is not in allowlist-source-range");
  }

  if (request.upgrade && route.proto.websocket().origins_restricted() &&
      !OriginAllowedOnRoute(request.origin, route)) {
    return Refuse(RefusalReason::kOriginNotAllowed, kForbidden,
                  request.origin.empty() ? std::string("websocket upgrade without an Origin header: this route only "
                                                       "accepts the origins in websocket-allowed-origins")
                                         : "origin " + std::string(request.origin) +
                                               " is not in websocket-allowed-origins");
  }

  Admission admission;
  admission.source_lets_in =
      request.source_or_credentials && !route.allow_sources.empty() && source == SourceVerdict::kAllowed;
  if (!route.limit_exempt_sources.empty() && route.limit_exempt_sources.Contains(request.client)) return admission;

  const pier::v1::Limits& limits = route.proto.limits();
  const ClientKey client = ClientKey::From(request.client);
  const ConnectionLimits connection_limits{limits.connections_per_client(), limits.connections_per_route()};
  switch (connections_.Acquire(route.name, client, connection_limits, admission.lease)) {
    case ConnectionLimiter::Outcome::kAcquired: break;
    case ConnectionLimiter::Outcome::kClientLimit:
      return Refuse(RefusalReason::kLimitConnections, kTooManyRequests,
                    "too many connections from " + ClientText(request.client) + " (limit-connections " +
                        std::to_string(limits.connections_per_client()) + ")");
    case ConnectionLimiter::Outcome::kRouteLimit:
      return Refuse(RefusalReason::kMaxConnections, kTooManyRequests,
                    "route is at its connection limit (max-connections " +
                        std::to_string(limits.connections_per_route()) + ")");
  }

  const double rate = limits.requests_per_second();
  if (rate > 0) {
    const BucketSpec spec{rate, std::max(1.0, static_cast<double>(limits.burst()))};
    const RateLimiter::Result taken = rates_.Take(route.name, client, spec, clock_.Now());
    if (taken.outcome == RateLimiter::Outcome::kLimited) {
      const uint32_t retry_after = RetryAfterSeconds(taken.retry_after);
      return Refuse(RefusalReason::kRateLimited, kTooManyRequests,
                    "rate limit of " + FormatRate(rate) + " exceeded for " + ClientText(request.client) +
                        "; retry after " + std::to_string(retry_after) + "s",
                    retry_after);
    }
    if (taken.outcome == RateLimiter::Outcome::kTableFull) {
      static std::atomic<bool> warned{false};
      if (!warned.exchange(true)) {
        spdlog::warn("rate limit table full: new clients of rate-limited routes are refused until buckets expire");
      }
      return Refuse(RefusalReason::kRateLimited, kTooManyRequests, "rate limiter is tracking too many clients", 1);
    }
  }
  return admission;
}

}  // namespace pier::dataplane::limits
