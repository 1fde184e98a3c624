#include "translate/client_auth.h"

#include "annotations/registry.h"
#include "translate/tls_secret.h"

namespace pier::translate {
namespace {

constexpr uint32_t kUnavailable = 503;

pier::v1::ClientAuth::Verify VerifyMode(annotations::ClientVerify verify) {
  switch (verify) {
    case annotations::ClientVerify::kOptional:
      return pier::v1::ClientAuth::OPTIONAL;
    case annotations::ClientVerify::kOptionalNoCa:
      return pier::v1::ClientAuth::OPTIONAL_NO_CA;
    default:
      return pier::v1::ClientAuth::ON;
  }
}

}  // namespace

ClientAuthChoice ResolveClientAuth(const model::Ingress& ingress, const annotations::IngressAnnotations& values,
                                   const model::ClusterState& state, WarningSink& warnings,
                                   std::optional<std::chrono::system_clock::time_point> now) {
  ClientAuthChoice out;
  if (!values.auth_tls_secret || values.auth_tls_verify_client == annotations::ClientVerify::kOff) return out;
  const annotations::SecretRef& ref = *values.auth_tls_secret;
  const std::string key = (ref.namespace_.empty() ? ingress.meta.namespace_ : ref.namespace_) + "/" + ref.name;
  auto bundle = CaBundleOf(state, key);
  auto crls = bundle ? CrlBundleOf(state, key) : Result<std::string>(std::string());
  if (bundle && !crls) bundle = Fail(crls.error());
  if (bundle) {
    if (now && !crls->empty()) {
      if (auto expired = CrlExpiredAt(*crls, *now)) {
        warnings.Add(ingress, "BadTLSSecret",
                     "secret " + key + ": " + *expired + "; client certificates it covers are refused until it is renewed");
      }
    }
    pier::v1::ClientAuth& settings = out.settings.emplace();
    settings.set_ca_pem(std::move(*bundle));
    settings.set_verify(VerifyMode(values.auth_tls_verify_client));
    settings.set_verify_depth(values.auth_tls_verify_depth);
    settings.set_error_page(values.auth_tls_error_page);
    settings.set_pass_certificate(values.auth_tls_pass_certificate_to_upstream);
    settings.set_secret(key);
    settings.set_match_cn(values.auth_tls_match_cn);
    settings.set_crl_pem(std::move(*crls));
    return out;
  }
  const std::string& problem = bundle.error();
  const std::string written = annotations::WrittenKey(ingress.meta.annotations, "auth-tls-secret");
  const auto value = ingress.meta.annotations.find(written);
  warnings.Add(ingress, "InvalidAnnotation",
               "annotation " + written + "=\"" + (value == ingress.meta.annotations.end() ? "" : value->second) +
                   "\": " + problem + "; every route of its hosts fails closed",
               written);
  out.failure = Unresolved{kUnavailable, "client certificate CA unusable: " + problem};
  return out;
}

bool SameClientAuth(const ClientAuthChoice& a, const ClientAuthChoice& b) {
  if (a.failure || b.failure) {
    return a.failure && b.failure && a.failure->reason == b.failure->reason;
  }
  if (a.settings.has_value() != b.settings.has_value()) return false;
  return !a.settings || a.settings->SerializeAsString() == b.settings->SerializeAsString();
}

}  // namespace pier::translate
