#include "tls/certificate_set.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>

#include "pier/common/match.h"
#include "tls/server_settings.h"

namespace pier::dataplane::tls {

namespace {

// Lowercase without one trailing "."; empty when the name cannot be a DNS name at all.
std::string NormalizeServerName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); });
  return out;
}

// Each part is preceded by its length, so no two (chain, key) pairs hash the same input.
std::optional<CertificateDigest> DigestOf(const pier::v1::TlsCertificate& certificate) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) return std::nullopt;
  for (const std::string* part : {&certificate.certificate_chain_pem(), &certificate.private_key_pem()}) {
    const uint64_t size = part->size();
    if (EVP_DigestUpdate(context.get(), &size, sizeof(size)) != 1 ||
        EVP_DigestUpdate(context.get(), part->data(), part->size()) != 1) {
      return std::nullopt;
    }
  }
  CertificateDigest digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1 || length != digest.size()) return std::nullopt;
  return digest;
}

// The certificate of `set` named `name`, or null (certificates_ is sorted by name).
std::shared_ptr<const ServerCertificate> FindByName(const std::vector<std::shared_ptr<const ServerCertificate>>& sorted,
                                                    const std::string& name) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), name,
                             [](const auto& certificate, const std::string& wanted) { return certificate->name < wanted; });
  return it != sorted.end() && (*it)->name == name ? *it : nullptr;
}

}  // namespace

bool ServerCertificate::Covers(std::string_view host) const noexcept {
  return std::any_of(sni_names.begin(), sni_names.end(),
                     [&](const std::string& pattern) { return match::HostMatches(pattern, host); });
}

std::optional<int64_t> LeafNotAfter(const std::string& chain_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())),
                                                BIO_free);
  if (!bio) return std::nullopt;
  std::unique_ptr<X509, decltype(&X509_free)> leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!leaf) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf.get()), &tm) != 1) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

Result<std::shared_ptr<const CertificateSet>> CertificateSet::Build(const pier::v1::Snapshot& snapshot,
                                                                   const CertificateSet* previous) {
  auto set = std::make_shared<CertificateSet>();
  set->certificates_.reserve(static_cast<std::size_t>(snapshot.certificates_size()));
  for (const pier::v1::TlsCertificate& certificate : snapshot.certificates()) {
    const std::string where = "certificate \"" + certificate.name() + "\": ";
    auto digest = DigestOf(certificate);
    if (!digest) return Fail(where + "cannot hash it (OpenSSL)");
    auto compiled = std::make_shared<ServerCertificate>();
    compiled->name = certificate.name();
    compiled->sni_names.assign(certificate.sni_names().begin(), certificate.sni_names().end());
    compiled->digest = *digest;
    // The name only picks the candidate; equal chain and key bytes are what allow taking over
    // its context (an SSL_CTX is shared by reference count, never changed after it is built).
    auto old = previous != nullptr ? FindByName(previous->certificates_, certificate.name()) : nullptr;
    if (old != nullptr && old->digest == *digest) {
      compiled->context = old->context;
      compiled->not_after = old->not_after;
    } else {
      auto context = MakeServerContext(certificate.certificate_chain_pem(), certificate.private_key_pem());
      if (!context) return Fail(where + context.error());
      compiled->context = std::move(*context);
      compiled->not_after = LeafNotAfter(certificate.certificate_chain_pem());
    }
    set->certificates_.push_back(std::move(compiled));
  }
  std::sort(set->certificates_.begin(), set->certificates_.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  for (const auto& certificate : set->certificates_) {
    for (const std::string& name : certificate->sni_names) {
      if (match::IsWildcardHost(name)) {
        set->wildcard_.emplace(name.substr(1), certificate);  // emplace keeps the first
      } else {
        set->exact_.emplace(name, certificate);
      }
    }
    if (certificate->name == snapshot.default_certificate()) set->default_ = certificate;
  }
  if (!snapshot.default_certificate().empty() && !set->default_) {
    return Fail("default certificate \"" + snapshot.default_certificate() + "\" does not exist");
  }
  return std::shared_ptr<const CertificateSet>(std::move(set));
}

std::shared_ptr<const ServerCertificate> CertificateSet::Select(std::string_view server_name) const {
  if (server_name.empty()) return nullptr;
  const std::string name = NormalizeServerName(server_name);
  if (auto it = exact_.find(name); it != exact_.end()) return it->second;
  // The wildcard stands for exactly one non-empty label: the part after the first dot must
  // itself hold a dot ("*.com" style patterns are refused by validation anyway).
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0) return nullptr;
  if (auto it = wildcard_.find(std::string_view(name).substr(dot)); it != wildcard_.end()) return it->second;
  return nullptr;
}

}  // namespace pier::dataplane::tls
