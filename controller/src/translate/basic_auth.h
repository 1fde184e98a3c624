// auth-type basic + auth-secret -> the users a route's requests must authenticate as. The users
// come from the htpasswd file in the Secret's `auth` key; when it cannot be used (no Secret, no
// usable user, one of the two annotations without the other) the routes fail closed, since
// serving them open is what the author used the annotations to prevent.
#pragma once

#include <optional>

#include "annotations/ingress_annotations.h"
#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"
#include "translate/backends.h"
#include "translate/warnings.h"

namespace pier::translate {

struct BasicAuthChoice {
  pier::v1::BasicAuth settings;  // enabled is false without auth-type basic
  std::optional<Unresolved> failure;  // set: the Ingress' routes answer this instead of proxying
};

// Problems are reported on `ingress` as InvalidAnnotation (key auth-secret, or auth-type when
// the Secret is missing from the annotations).
BasicAuthChoice ResolveBasicAuth(const model::Ingress& ingress, const annotations::IngressAnnotations& values,
                                 const model::ClusterState& state, WarningSink& warnings);

}  // namespace pier::translate
