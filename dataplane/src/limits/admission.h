// The one check a request passes between routing and the upstream: the route's access rules
// and limits, in this order, each refusal with its status and a one-line reason:
//   1. allowlist-/denylist-source-range           403 denied_source
//   2. websocket-allowed-origins (upgrades only)  403 origin_not_allowed
//   3. limit-connections, then max-connections    429 limit_connections / max_connections
//   4. limit-rps / limit-rpm                      429 rate_limited, with Retry-After
// Clients in limit-allowlist skip 3 and 4. An admitted request gets a lease that holds its
// connection counts; the caller keeps it for the exchange, or the tunnel's life.
//
// With satisfy any (AdmissionRequest::source_or_credentials) step 1 refuses nothing: its verdict
// comes back in Admission::source_lets_in, and the caller asks for credentials when it is false.
//
// One instance serves every worker thread; everything it touches is sharded or atomic.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "limits/clock.h"
#include "limits/connection_limiter.h"
#include "limits/limit_metrics.h"
#include "limits/rate_limiter.h"
#include "routing/config.h"

namespace pier::dataplane::limits {

struct Refusal {
  unsigned status = 0;
  RefusalReason reason = RefusalReason::kDeniedSource;
  std::string message;
  uint32_t retry_after_s = 0;  // > 0: send Retry-After with this many seconds
};

struct AdmissionRequest {
  const RouteConfig& route;
  // The client as the trusted-proxies rule defines it (not necessarily the TCP peer).
  boost::asio::ip::address client;
  bool upgrade = false;
  // The Origin header ("" when absent; several joined by ","); read for upgrades only.
  std::string_view origin;
  // satisfy any on a route with authentication: the source ranges let a client in without
  // credentials, but never keep one out (authenticating overrides them, as in nginx).
  bool source_or_credentials = false;
};

struct Admission {
  std::optional<Refusal> refusal;  // set: answer with it, nothing was counted
  ConnectionLease lease;           // otherwise: hold for as long as the request or tunnel lives
  // With source_or_credentials: the route has an allowlist, the client is in it and not in the
  // denylist, so it needs no credentials. (Without an allowlist nobody is let in by the ranges
  // alone: nginx's access module then declines rather than allows.)
  bool source_lets_in = false;
};

class AdmissionControl final {
 public:
  struct Options {
    RateLimiter::Options rate;
    // Counts refusals and keeps the table gauges; off in tests that build many instances.
    bool export_metrics = true;
  };

  // `clock` must outlive this object.
  explicit AdmissionControl(const Clock& clock, Options options);
  AdmissionControl();
  AdmissionControl(const AdmissionControl&) = delete;
  AdmissionControl& operator=(const AdmissionControl&) = delete;

  Admission Admit(const AdmissionRequest& request);

  ConnectionLimiter& connections() noexcept { return connections_; }
  RateLimiter& rates() noexcept { return rates_; }

 private:
  Admission Refuse(RefusalReason reason, unsigned status, std::string message, uint32_t retry_after_s = 0);

  const Clock& clock_;
  LimitMetrics* const metrics_;
  ConnectionLimiter connections_;
  RateLimiter rates_;
};

}  // namespace pier::dataplane::limits
