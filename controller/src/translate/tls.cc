#include "translate/tls.h"

#include "pier/common/pem_check.h"
#include "translate/names.h"

namespace pier::translate {
namespace {

constexpr const char* kTlsSecretType = "kubernetes.io/tls";

// A Secret that cannot serve TLS is reported here and left out of the snapshot: the dataplane
// refuses a whole snapshot holding one, which would freeze every other change.
std::string SecretProblem(const model::ClusterState& state, const std::string& key) {
  const auto it = state.secrets.find(key);
  if (it == state.secrets.end()) return "secret " + key + " not found";
  const model::Secret& secret = it->second;
  if (secret.type != kTlsSecretType) {
    return "secret " + key + " has type " + secret.type + ", not " + kTlsSecretType;
  }
  for (const char* field : {"tls.crt", "tls.key"}) {
    const auto data = secret.data.find(field);
    if (data == secret.data.end() || data->second.empty()) return "secret " + key + " has no " + field;
  }
  if (auto usable = tls::CheckKeyPair(secret.data.at("tls.crt"), secret.data.at("tls.key")); !usable) {
    return "secret " + key + ": " + usable.error();
  }
  return {};
}

}  // namespace

void TlsCatalog::Add(const model::Ingress& ingress, const model::ClusterState& state, WarningSink& warnings) {
  for (std::size_t i = 0; i < ingress.tls.size(); ++i) {
    const model::IngressTLS& entry = ingress.tls[i];
    if (entry.secret_name.empty()) {
      warnings.Add(ingress, "BadTLSSecret", "spec.tls[" + std::to_string(i) + "] names no secret");
      continue;
    }
    const std::string key = ingress.meta.namespace_ + "/" + entry.secret_name;
    if (std::string problem = SecretProblem(state, key); !problem.empty()) {
      warnings.Add(ingress, "BadTLSSecret", problem);
      continue;
    }

    std::set<std::string> hosts;
    if (!entry.hosts.empty()) {
      for (const std::string& host : entry.hosts) hosts.insert(LowercaseAscii(host));
    } else {
      for (const model::IngressRule& rule : ingress.rules) {
        if (!rule.host.empty()) hosts.insert(LowercaseAscii(rule.host));
      }
    }

    auto [certificate, inserted] = certificates_.try_emplace(key);
    if (inserted) {
      const model::Secret& secret = state.secrets.at(key);
      certificate->second.set_name(key);
      certificate->second.set_certificate_chain_pem(secret.data.at("tls.crt"));
      certificate->second.set_private_key_pem(secret.data.at("tls.key"));
    }
    for (const std::string& host : hosts) {
      if (host.empty() || !IsValidHost(host)) {
        warnings.Add(ingress, "InvalidHost", "spec.tls[" + std::to_string(i) + "] host \"" + host + "\" is not a DNS name");
        continue;
      }
      sni_names_[key].insert(host);
      host_certificate_.try_emplace(host, key);
    }
  }
}

std::string TlsCatalog::CertificateFor(const std::string& host) const {
  const auto it = host_certificate_.find(host);
  return it == host_certificate_.end() ? std::string() : it->second;
}

std::vector<pier::v1::TlsCertificate> TlsCatalog::TakeCertificates() {
  std::vector<pier::v1::TlsCertificate> out;
  out.reserve(certificates_.size());
  for (auto& [name, certificate] : certificates_) {
    for (const std::string& host : sni_names_[name]) certificate.add_sni_names(host);
    out.push_back(std::move(certificate));
  }
  certificates_.clear();
  return out;
}

}  // namespace pier::translate
