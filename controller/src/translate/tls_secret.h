// Whether a Secret can serve TLS, or verify a backend: the checks the controller makes before
// it ships PEM to dataplanes (which refuse a whole snapshot holding one bad certificate).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "model/objects.h"
#include "pier/common/result.h"

namespace pier::translate {

inline constexpr const char* kTlsSecretType = "kubernetes.io/tls";

// The PEM a kubernetes.io/tls Secret serves.
struct CertificateMaterial {
  std::string uid;  // of the Secret it came from: a recreated Secret is a different one
  std::string chain_pem;
  std::string key_pem;
  // The leaf's notAfter, read once when the material was checked (nullopt: unreadable), so
  // each build's expiry check is a comparison rather than a PEM parse. Derived from chain_pem:
  // not part of equality.
  std::optional<std::chrono::system_clock::time_point> not_after{};

  friend bool operator==(const CertificateMaterial& a, const CertificateMaterial& b) {
    return a.uid == b.uid && a.chain_pem == b.chain_pem && a.key_pem == b.key_pem;
  }
};

// The Secret has type kubernetes.io/tls, tls.crt and tls.key, the chain parses and the key
// matches the leaf. The error says which check failed (without the Secret's name).
//
// `last_good`: what an earlier build found good for this Secret, if anything. When the Secret
// still holds exactly that (same uid, chain and key) the key-pair check, about a millisecond per
// certificate and deterministic, is not run again: a build with a thousand TLS Secrets would
// otherwise spend a second on them.
Result<CertificateMaterial> CheckTlsSecret(const model::Secret& secret, const CertificateMaterial* last_good = nullptr);

// The notAfter of the leaf (first) certificate of `chain_pem`; nullopt when it cannot be read.
std::optional<std::chrono::system_clock::time_point> LeafNotAfter(const std::string& chain_pem);

// When the leaf certificate stopped being valid, if it did by `now` ("expired at 2025-01-01
// 00:00:00 UTC"); nullopt when it is still valid or its notAfter could not be read.
std::optional<std::string> ExpiredAt(const CertificateMaterial& material, std::chrono::system_clock::time_point now);
std::optional<std::string> ExpiredAt(const std::string& chain_pem, std::chrono::system_clock::time_point now);

// At least one certificate, every PEM block a certificate that parses and goes into an OpenSSL
// store (tls::CheckCertificateBundle: the dataplane's own loading code).
Result<bool> CheckCaBundle(const std::string& pem);

// The ca.crt of the Secret `key` ("namespace/name", any type), checked with CheckCaBundle; the
// error names the Secret and what is wrong ("secret ns/ca has no ca.crt").
Result<std::string> CaBundleOf(const model::ClusterState& state, const std::string& key);

// At least one CRL, every PEM block a CRL that parses and goes into an OpenSSL store
// (tls::CheckCrlBundle: the dataplane's own loading code).
Result<bool> CheckCrlBundle(const std::string& pem);

// When the first CRL of a ca.crl bundle to expire did, if one did by `now` ("CRL 2 of ca.crl
// expired at 2025-01-01 00:00:00 UTC"): past its nextUpdate, a CRL makes nginx and Pier refuse
// every certificate of the chain it covers. nullopt for a bundle CheckCrlBundle refuses.
std::optional<std::string> CrlExpiredAt(const std::string& pem, std::chrono::system_clock::time_point now);

// The ca.crl of the Secret `key` (nginx's ssl_crl for auth-tls-secret): "" when the Secret has
// none (or an empty one), the PEM when CheckCrlBundle passes, else the error naming the Secret.
Result<std::string> CrlBundleOf(const model::ClusterState& state, const std::string& key);

struct ClientCertificate {
  std::string chain_pem;
  std::string key_pem;
};

// The tls.crt and tls.key of the Secret `key` (any type), the certificate Pier presents to an
// HTTPS backend (proxy-ssl-secret): nullopt when the Secret has neither, the pair when both are
// there and CheckKeyPair passes, else the error naming the Secret ("secret ns/x has tls.crt but
// no tls.key").
Result<std::optional<ClientCertificate>> ClientCertificateOf(const model::ClusterState& state, const std::string& key);

}  // namespace pier::translate
