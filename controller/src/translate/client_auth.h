// auth-tls-* -> the client-certificate policy of a host (VirtualHost.client_auth). The CA comes
// from a Secret's ca.crt; when that cannot be used the host's routes fail closed, since serving
// them without the check would open them to every client.
#pragma once

#include <chrono>
#include <optional>

#include "annotations/ingress_annotations.h"
#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"
#include "translate/backends.h"
#include "translate/warnings.h"

namespace pier::translate {

struct ClientAuthChoice {
  std::optional<pier::v1::ClientAuth> settings;  // set: the Ingress asks its hosts to verify clients
  std::optional<Unresolved> failure;             // set: its hosts' routes answer this instead

  bool wanted() const noexcept { return settings.has_value() || failure.has_value(); }
};

// Empty for an Ingress without auth-tls-secret or with auth-tls-verify-client off. Problems are
// reported on `ingress` as InvalidAnnotation (key auth-tls-secret); with `now`, a ca.crl already
// past its nextUpdate as BadTLSSecret (it is still used: every client certificate it covers is
// refused until the CRL is renewed, as in nginx).
ClientAuthChoice ResolveClientAuth(const model::Ingress& ingress, const annotations::IngressAnnotations& values,
                                   const model::ClusterState& state, WarningSink& warnings,
                                   std::optional<std::chrono::system_clock::time_point> now = std::nullopt);

// Whether two Ingresses ask for the same thing (the same settings, or the same failure).
bool SameClientAuth(const ClientAuthChoice& a, const ClientAuthChoice& b);

}  // namespace pier::translate
