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
  out.settings.set_no_server_name(!values.proxy_ssl_server_name);
  out.settings.set_verify_depth(values.proxy_ssl_verify_depth);
  out.settings.set_ciphers(values.proxy_ssl_ciphers);
  out.settings.set_min_protocol(values.proxy_ssl_min_protocol);
  out.settings.set_max_protocol(values.proxy_ssl_max_protocol);
  if (!values.proxy_ssl_secret) return out;

  const annotations::SecretRef& ref = *values.proxy_ssl_secret;
  const std::string key = (ref.namespace_.empty() ? ingress.meta.namespace_ : ref.namespace_) + "/" + ref.name;
  // The Secret holds the CAs to verify the backend with (ca.crt), the certificate to present to
  // it (tls.crt and tls.key), or both; a certificate alone leaves verification to the system's
  // CAs, as an HTTPS backend without proxy-ssl-secret.
  auto client = ClientCertificateOf(state, key);
  const auto secret = state.secrets.find(key);
  const auto has = [&](const char* field) {
    if (secret == state.secrets.end()) return false;
    const auto data = secret->second.data.find(field);
    return data != secret->second.data.end() && !data->second.empty();
  };
  // Without ca.crt the Secret is about the client certificate, and a problem there is the one
  // to report.
  const bool ca_wanted = has("ca.crt") || (!has("tls.crt") && !has("tls.key"));
  auto bundle = ca_wanted ? CaBundleOf(state, key) : Result<std::string>(std::string());
  const bool ca_usable = bundle.ok();
  if (bundle && !client) bundle = Fail(client.error());
  if (bundle) {
    out.settings.set_ca_pem(std::move(*bundle));
    if (*client) {
      out.settings.set_client_certificate_chain_pem(std::move((*client)->chain_pem));
      out.settings.set_client_private_key_pem(std::move((*client)->key_pem));
    }
    return out;
  }
  const std::string& problem = bundle.error();
  const std::string written = annotations::WrittenKey(ingress.meta.annotations, "proxy-ssl-secret");
  const auto value = ingress.meta.annotations.find(written);
  warnings.Add(ingress, "InvalidAnnotation",
               "annotation " + written + "=\"" + (value == ingress.meta.annotations.end() ? "" : value->second) +
                   "\": " + problem + "; routes of this Ingress fail closed",
               written);
  out.failure = Unresolved{kUnavailable,
                           std::string(ca_usable ? "backend TLS client certificate unusable: " : "backend TLS CA unusable: ") +
                               problem};
  return out;
}

}  // namespace pier::translate
