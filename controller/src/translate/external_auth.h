// auth-url and its companions -> the ExternalAuth of a route. The annotation values were checked
// when they were read; what is left is per route: $host in the URL's authority becomes the
// route's host, which an Ingress rule without a host (or with a wildcard) does not have. Such a
// route fails closed rather than send the auth request to a host the client's Host header chose.
#pragma once

#include <optional>
#include <string>

#include "annotations/ingress_annotations.h"
#include "pier/v1/snapshot.pb.h"
#include "translate/backends.h"

namespace pier::translate {

struct ExternalAuthChoice {
  pier::v1::ExternalAuth settings;    // url empty: no auth-url
  std::optional<Unresolved> failure;  // set: the route answers this instead of proxying
};

ExternalAuthChoice ResolveExternalAuth(const annotations::IngressAnnotations& values, const std::string& host);

}  // namespace pier::translate
