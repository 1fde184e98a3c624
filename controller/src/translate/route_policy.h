// An Ingress' typed annotations -> the policy fields of each of its routes.
#pragma once

#include "annotations/ingress_annotations.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::translate {

// `route` must already carry its match, service and ingress. `host_has_tls`: whether the
// route's host is listed under spec.tls (ssl-redirect and HSTS apply only then), whichever
// certificate it ends up served with.
void ApplyPolicy(const annotations::IngressAnnotations& values, bool host_has_tls, pier::v1::Route& route);

}  // namespace pier::translate
