// Which Secrets the controller keeps: TLS Secrets (certificates for Ingress hosts and the default
// certificate) and Secrets of any type holding a ca.crt (the proxy-ssl-secret CA). The API server
// cannot select "type A or has key B", so the watch skips only the bulky types that are never
// either (Helm releases, service account tokens) and this filter drops the rest on arrival.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string_view>

namespace pier::kube {

// The fieldSelector of every Secret list and watch.
inline constexpr std::string_view kSecretFieldSelector =
    "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token";

bool KeepSecret(const nlohmann::json& object);

}  // namespace pier::kube
