// An Ingress' typed annotations -> the policy fields of each of its routes.
#pragma once

#include "annotations/ingress_annotations.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::translate {

// `route` must already carry its match, service and ingress. `host_has_tls`: whether the
// route's host is listed under spec.tls (ssl-redirect and HSTS apply only then), whichever
// certificate it ends up served with.
void ApplyPolicy(const annotations::IngressAnnotations& values, bool host_has_tls, pier::v1::Route& route);

// A canary route starts as a copy of its main route; these take the canary Ingress' own keys:
// load balancing and affinity onto the canary route, the canary-* rules onto the main route.
void ApplyCanaryBalancing(const annotations::IngressAnnotations& canary, pier::v1::Route& canary_route);
void ApplyCanaryRules(const annotations::IngressAnnotations& canary, const annotations::IngressAnnotations& main,
                      const std::string& canary_route_name,
                      pier::v1::Route& main_route);

}  // namespace pier::translate
