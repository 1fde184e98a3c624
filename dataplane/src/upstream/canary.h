// canary-*: whether a request that matched a route with a canary goes to the canary route
// instead, decided as ingress-nginx decides it. The header first: with a header value (or
// pattern) only that value (or a value the pattern finds a match in) picks the canary; without,
// "always" picks it and "never" keeps the main route. Then the cookie: "always" or "never". Any
// other value, or neither present, leaves it to the weight: a draw in [1, weight_total] not above
// the weight picks the canary.
#pragma once

#include <boost/beast/http/fields.hpp>

#include <cstdint>

#include "routing/config.h"

namespace pier::dataplane::upstream {

// `route` has a canary (route.canary set). `draw`: uniform in [1, CanaryTotal(rules)].
bool WantsCanary(const RouteConfig& route, const boost::beast::http::fields& request, uint32_t draw);

// weight_total, 100 when unset.
uint32_t CanaryTotal(const pier::v1::Canary& rules) noexcept;

// A uniform draw in [1, total] from this thread's generator.
uint32_t DrawCanary(uint32_t total);

}  // namespace pier::dataplane::upstream
