// canary-*: whether a request that matched a route with a canary goes to the canary route
// instead. The header first: with a header value (or pattern) only that value (or a value the
// pattern finds a match in) picks the canary; without, "always" picks it and "never" keeps the
// main route. Then the cookie: "always" or "never". Any other value, or neither present, leaves
// it to the weight. A weight of 0 keeps everyone else on the main route, one of weight_total
// (or more) sends everyone else to the canary. Between the two, affinity comes first: a client
// whose affinity cookie names an endpoint of the main route stays there, one whose cookie names
// an endpoint of the canary stays on the canary (ingress-nginx's sticky canary; without it, a
// weight drawn per request would move a pinned client between the two backends). The others
// draw: a draw in [1, weight_total] not above the weight picks the canary.
#pragma once

#include <boost/beast/http/fields.hpp>

#include <cstdint>

#include "routing/config.h"

namespace pier::dataplane::upstream {

class BalancerSet;

// The whole decision for a request that matched `main` (main.canary set), with the weight drawn
// now (DrawCanary) when the rules before it leave the choice open.
bool ChooseCanary(const RouteConfig& main, const boost::beast::http::fields& request, BalancerSet& balancers);

// The header, cookie and weight rules without affinity.
// `route` has a canary (route.canary set). `draw`: uniform in [1, CanaryTotal(rules)].
bool WantsCanary(const RouteConfig& route, const boost::beast::http::fields& request, uint32_t draw);

// weight_total, 100 when unset.
uint32_t CanaryTotal(const pier::v1::Canary& rules) noexcept;

// A uniform draw in [1, total] from this thread's generator.
uint32_t DrawCanary(uint32_t total);

}  // namespace pier::dataplane::upstream
