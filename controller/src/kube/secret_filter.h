// Which Secrets the controller keeps: TLS Secrets (certificates for Ingress hosts and the default
// certificate) and Secrets of any type holding a ca.crt (the proxy-ssl-secret and auth-tls-secret CAs) or an auth key
// (the auth-secret htpasswd file). The API server cannot select "type A or has key B", so the
// watch skips only the bulky types that are never either (Helm releases, service account
// tokens) and this filter drops the rest on arrival.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string_view>

#include "kube/informer.h"

namespace pier::kube {

// The fieldSelector of every Secret list and watch.
inline constexpr std::string_view kSecretFieldSelector =
    "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token";

bool KeepSecret(const nlohmann::json& object);

// `inner` behind the filter, for Secrets only: a relist passes on the kept ones, an upsert of a
// Secret that is not kept is dropped, or turned into a deletion when it was kept before (its
// ca.crt or auth removed), and only deletions of kept Secrets pass. Other kinds pass untouched.
InformerCallbacks FilteringSecrets(InformerCallbacks inner);

}  // namespace pier::kube
