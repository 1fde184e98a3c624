// backend-protocol and proxy-ssl-* -> the TLS a route's cluster speaks to its endpoints. The CA
// comes from a Secret's ca.crt; when that cannot be used the routes fail closed, since quietly
// skipping verification would be unsafe.
#pragma once

#include <optional>
#include <string>

#include "annotations/ingress_annotations.h"
#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"
#include "translate/backends.h"
#include "translate/warnings.h"

namespace pier::translate {

struct BackendTlsChoice {
  pier::v1::BackendTls settings;  // enabled is false for backend-protocol HTTP
  std::optional<Unresolved> failure;  // set: the Ingress' routes answer this instead of proxying
};

// Problems are reported on `ingress` as InvalidAnnotation (key proxy-ssl-secret).
BackendTlsChoice ResolveBackendTls(const model::Ingress& ingress, const annotations::IngressAnnotations& values,
                                   const model::ClusterState& state, WarningSink& warnings);

}  // namespace pier::translate
