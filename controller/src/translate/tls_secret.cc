#include "translate/tls_secret.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "pier/common/pem_check.h"

namespace pier::translate {
namespace {

struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct CrlFree {
  void operator()(X509_CRL* crl) const noexcept { X509_CRL_free(crl); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;

// BIO_new_mem_buf takes an int length; CA bundles and chains are far smaller.
constexpr std::size_t kMaxPemBytes = 1u << 24;

BioPtr MemoryBio(const std::string& pem) {
  if (pem.size() > kMaxPemBytes) return nullptr;
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Never asks for a passphrase on the terminal (which would block the event loop).
int NoPassphrase(char*, int, int, void*) { return 0; }

std::string UtcText(std::time_t when) {
  std::tm utc{};
  if (gmtime_r(&when, &utc) == nullptr) return "an unknown time";
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

}  // namespace

Result<CertificateMaterial> CheckTlsSecret(const model::Secret& secret, const CertificateMaterial* last_good) {
  if (secret.type != kTlsSecretType) return Fail("has type " + secret.type + ", not " + kTlsSecretType);
  for (const char* field : {"tls.crt", "tls.key"}) {
    const auto data = secret.data.find(field);
    if (data == secret.data.end() || data->second.empty()) return Fail(std::string("has no ") + field);
  }
  CertificateMaterial material{secret.meta.uid, secret.data.at("tls.crt"), secret.data.at("tls.key"), std::nullopt};
  if (last_good != nullptr && *last_good == material) {
    material.not_after = last_good->not_after;
    return material;
  }
  if (auto usable = tls::CheckKeyPair(material.chain_pem, material.key_pem); !usable) return Fail(usable.error());
  material.not_after = LeafNotAfter(material.chain_pem);
  return material;
}

std::optional<std::chrono::system_clock::time_point> LeafNotAfter(const std::string& chain_pem) {
  BioPtr bio = MemoryBio(chain_pem);
  if (!bio) return std::nullopt;
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!leaf) return std::nullopt;
  std::tm expiry{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf.get()), &expiry) != 1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&expiry));
}

std::optional<std::string> ExpiredAt(const CertificateMaterial& material, std::chrono::system_clock::time_point now) {
  // As OpenSSL's X509_cmp_time: a certificate is no longer valid at its notAfter second.
  if (!material.not_after || *material.not_after > now) return std::nullopt;
  return "expired at " + UtcText(std::chrono::system_clock::to_time_t(*material.not_after));
}

std::optional<std::string> ExpiredAt(const std::string& chain_pem, std::chrono::system_clock::time_point now) {
  CertificateMaterial material;
  material.not_after = LeafNotAfter(chain_pem);
  return ExpiredAt(material, now);
}

namespace {

// Calls `each` with every PEM block `read` parses from `pem` (PEM_read_bio_X509 or
// PEM_read_bio_X509_CRL); what a bundle of `what`s ("certificate" of "ca.crt", "CRL" of "ca.crl")
// is wrong with otherwise: too large, a block that does not parse, or none at all.
template <class Object, class Free, class Each>
Result<bool> ForEachPemBlock(const std::string& pem, Object* (*read)(BIO*, Object**, pem_password_cb*, void*),
                             const std::string& what, const std::string& file, Each&& each) {
  BioPtr bio = MemoryBio(pem);
  if (!bio) return Fail(file + " is larger than 16 MiB");
  ERR_clear_error();
  int count = 0;
  for (;;) {
    std::unique_ptr<Object, Free> object(read(bio.get(), nullptr, NoPassphrase, nullptr));
    if (object) {
      ++count;
      each(*object, count);
      continue;
    }
    // Running out of input ends the loop; anything else is a broken block.
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) break;
    return Fail(what + " " + std::to_string(count + 1) + " of " + file + " does not parse");
  }
  if (count == 0) return Fail(file + " holds no PEM " + what);
  return true;
}

}  // namespace

// The dataplane adds the bundles to its stores with the same functions.
Result<bool> CheckCaBundle(const std::string& pem) { return tls::CheckCertificateBundle(pem, "ca.crt"); }

Result<bool> CheckCrlBundle(const std::string& pem) { return tls::CheckCrlBundle(pem, "ca.crl"); }

std::optional<std::string> CrlExpiredAt(const std::string& pem, std::chrono::system_clock::time_point now) {
  const std::time_t now_t = std::chrono::system_clock::to_time_t(now);
  std::optional<std::string> expired;
  std::optional<std::time_t> earliest;
  auto each = [&](X509_CRL& crl, int index) {
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(&crl);
    std::tm parsed{};
    if (next == nullptr || ASN1_TIME_to_tm(next, &parsed) != 1) return;
    const std::time_t when = timegm(&parsed);
    // As OpenSSL's CRL time check: past its nextUpdate second, a CRL has expired.
    if (when > now_t || (earliest && *earliest <= when)) return;
    earliest = when;
    expired = "CRL " + std::to_string(index) + " of ca.crl expired at " + UtcText(when);
  };
  if (!ForEachPemBlock<X509_CRL, CrlFree>(pem, PEM_read_bio_X509_CRL, "CRL", "ca.crl", each)) return std::nullopt;
  return expired;
}

Result<std::string> CrlBundleOf(const model::ClusterState& state, const std::string& key) {
  const auto secret = state.secrets.find(key);
  if (secret == state.secrets.end()) return Fail("secret " + key + " not found");
  const auto crl = secret->second.data.find("ca.crl");
  if (crl == secret->second.data.end() || crl->second.empty()) return std::string();
  if (auto bundle = CheckCrlBundle(crl->second); !bundle) return Fail("secret " + key + ": " + bundle.error());
  return crl->second;
}

Result<std::optional<ClientCertificate>> ClientCertificateOf(const model::ClusterState& state, const std::string& key) {
  const auto secret = state.secrets.find(key);
  if (secret == state.secrets.end()) return Fail("secret " + key + " not found");
  const auto value = [&](const char* field) -> const std::string* {
    const auto data = secret->second.data.find(field);
    return data == secret->second.data.end() || data->second.empty() ? nullptr : &data->second;
  };
  const std::string* chain = value("tls.crt");
  const std::string* private_key = value("tls.key");
  if (chain == nullptr && private_key == nullptr) return std::optional<ClientCertificate>();
  if (chain == nullptr) return Fail("secret " + key + " has tls.key but no tls.crt");
  if (private_key == nullptr) return Fail("secret " + key + " has tls.crt but no tls.key");
  if (auto usable = tls::CheckKeyPair(*chain, *private_key); !usable) {
    return Fail("secret " + key + ": client certificate: " + usable.error());
  }
  return std::optional<ClientCertificate>(ClientCertificate{*chain, *private_key});
}

Result<std::string> CaBundleOf(const model::ClusterState& state, const std::string& key) {
  const auto secret = state.secrets.find(key);
  if (secret == state.secrets.end()) return Fail("secret " + key + " not found");
  const auto ca = secret->second.data.find("ca.crt");
  if (ca == secret->second.data.end() || ca->second.empty()) return Fail("secret " + key + " has no ca.crt");
  if (auto bundle = CheckCaBundle(ca->second); !bundle) return Fail("secret " + key + ": " + bundle.error());
  return ca->second;
}

}  // namespace pier::translate
