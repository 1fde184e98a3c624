#include "translate/backend_tls.h"

#include "annotations/registry.h"
#include "translate/tls_secret.h"

namespace pier::translate {
namespace {

constexpr uint32_t kUnavailable = 503;

}  // namespace

BackendTlsChoice ResolveBackendTls(const model::Ingress& ingress, const annotations::IngressAnnotations& values,
                                   const model::ClusterState& state, WarningSink& warnings) {
  BackendTlsChoice out;
  if (values.backend_protocol != annotations::BackendProtocol::kHttps) return out;
  out.settings.set_enabled(true);
  out.settings.set_verify(values.proxy_ssl_verify.value_or(values.proxy_ssl_secret.has_value()));
  out.settings.set_server_name(values.proxy_ssl_name);
  if (!values.proxy_ssl_secret) return out;

  const annotations::SecretRef& ref = *values.proxy_ssl_secret;
  const std::string key = (ref.namespace_.empty() ? ingress.meta.namespace_ : ref.namespace_) + "/" + ref.name;
  auto bundle = CaBundleOf(state, key);
  if (bundle) {
    out.settings.set_ca_pem(std::move(*bundle));
    return out;
  }
  const std::string& problem = bundle.error();
  const std::string written = annotations::WrittenKey(ingress.meta.annotations, "proxy-ssl-secret");
  const auto value = ingress.meta.annotations.find(written);
  warnings.Add(ingress, "InvalidAnnotation",
               "annotation " + written + "=\"" + (value == ingress.meta.annotations.end() ? "" : value->second) +
                   "\": " + problem + "; routes of this Ingress fail closed",
               written);
  out.failure = Unresolved{kUnavailable, "backend TLS CA unusable: " + problem};
  return out;
}

}  // namespace pier::translate
