#include "translate/tls.h"

#include "translate/names.h"

namespace pier::translate {
namespace {

std::string JoinHosts(const std::set<std::string>& hosts) {
  std::string out;
  for (const std::string& host : hosts) out += (out.empty() ? "" : ", ") + host;
  return out.empty() ? "(none)" : out;
}

}  // namespace

const TlsCatalog::Outcome& TlsCatalog::Resolve(const std::string& key) {
  if (const auto found = outcomes_.find(key); found != outcomes_.end()) return found->second;
  Outcome& outcome = outcomes_[key];
  const auto secret = state_.secrets.find(key);
  if (secret == state_.secrets.end()) {
    // A deleted Secret takes its certificate with it: no history is consulted.
    outcome.problem = "not found";
    return outcome;
  }
  auto checked =
      CheckTlsSecret(secret->second, context_.history != nullptr ? context_.history->LastGood(key, state_) : nullptr);
  if (checked) {
    outcome.material = &good_.emplace(key, std::move(*checked)).first->second;
  } else {
    outcome.problem = checked.error();
    if (context_.history != nullptr) outcome.material = context_.history->LastGood(key, state_);
    outcome.previous = outcome.material != nullptr;
  }
  // An expired certificate is still served, as ingress-nginx does: refusing it would break
  // clients that do not check expiry and change nothing for those that do.
  if (outcome.material != nullptr && context_.now) {
    outcome.expired = ExpiredAt(*outcome.material, *context_.now).value_or("");
  }
  return outcome;
}

void TlsCatalog::Offer(const std::string& key, const CertificateMaterial& material) {
  auto [certificate, inserted] = certificates_.try_emplace(key);
  if (!inserted) return;
  certificate->second.set_name(key);
  certificate->second.set_certificate_chain_pem(material.chain_pem);
  certificate->second.set_private_key_pem(material.key_pem);
}

void TlsCatalog::SetDefault(const std::string& key) {
  if (key.empty()) return;
  const Outcome& outcome = Resolve(key);
  if (outcome.material != nullptr) {
    Offer(key, *outcome.material);
    default_name_ = key;
  }
  if (!outcome.problem.empty()) {
    default_problem_ = "default TLS secret " + key + ": " + outcome.problem +
                       (outcome.previous ? "; serving its previous good certificate"
                                         : "; the dataplane's self-signed certificate is used");
  } else if (!outcome.expired.empty()) {
    default_problem_ = "default TLS secret " + key + ": certificate " + outcome.expired + "; served anyway";
  }
}

void TlsCatalog::Add(const model::Ingress& ingress, WarningSink& warnings) {
  const std::string fallback =
      default_name_.empty() ? "the dataplane's self-signed certificate" : "the default certificate " + default_name_;
  for (std::size_t i = 0; i < ingress.tls.size(); ++i) {
    const model::IngressTLS& entry = ingress.tls[i];
    std::set<std::string> hosts;
    const auto add_host = [&](const std::string& name) {
      const std::string host = LowercaseAscii(name);
      if (host.empty() || !IsValidHost(host)) {
        warnings.Add(ingress, "InvalidHost", "spec.tls[" + std::to_string(i) + "] host \"" + host + "\" is not a DNS name");
        return;
      }
      hosts.insert(host);
    };
    if (!entry.hosts.empty()) {
      for (const std::string& host : entry.hosts) add_host(host);
    } else {
      for (const model::IngressRule& rule : ingress.rules) {
        if (!rule.host.empty()) add_host(rule.host);
      }
    }
    tls_hosts_.insert(hosts.begin(), hosts.end());
    // No secretName asks for the default certificate (Kubernetes: "TLS routing based on SNI
    // hostname alone"), as with ingress-nginx.
    if (entry.secret_name.empty()) continue;

    const std::string key = ingress.meta.namespace_ + "/" + entry.secret_name;
    const Outcome& outcome = Resolve(key);
    if (!outcome.problem.empty()) {
      warnings.Add(ingress, "BadTLSSecret",
                   "secret " + key + ": " + outcome.problem + "; hosts " + JoinHosts(hosts) +
                       (outcome.previous ? " keep its previous good certificate" : " are served with " + fallback));
    }
    if (!outcome.expired.empty()) {
      warnings.Add(ingress, "BadTLSSecret", "secret " + key + ": certificate " + outcome.expired + "; served anyway");
    }
    if (outcome.material == nullptr) continue;
    Offer(key, *outcome.material);
    for (const std::string& host : hosts) {
      sni_names_[key].insert(host);
      host_certificate_.try_emplace(host, key);
    }
  }
}

bool TlsCatalog::HasTls(const std::string& host) const {
  if (tls_hosts_.contains(host)) return true;
  const std::size_t dot = host.find('.');
  if (dot == std::string::npos || host.starts_with("*.")) return false;
  return tls_hosts_.contains("*" + host.substr(dot));
}

std::string TlsCatalog::CertificateFor(const std::string& host) const {
  if (const auto it = host_certificate_.find(host); it != host_certificate_.end()) return it->second;
  return tls_hosts_.contains(host) ? default_name_ : std::string();
}

void TlsCatalog::Finish(Output& out) {
  for (auto& [name, certificate] : certificates_) {
    for (const std::string& host : sni_names_[name]) certificate.add_sni_names(host);
    *out.snapshot.add_certificates() = std::move(certificate);
  }
  certificates_.clear();
  out.snapshot.set_default_certificate(default_name_);
  out.good_certificates = std::move(good_);
  good_.clear();
  for (const auto& [key, outcome] : outcomes_) {
    if (!outcome.problem.empty()) out.rejected_secrets.push_back(key);
  }
  out.default_certificate_problem = default_problem_;
}

}  // namespace pier::translate
