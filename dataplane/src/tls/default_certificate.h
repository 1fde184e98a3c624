// The certificate offered when a ClientHello names no host Pier has a certificate for (or
// names none) and the controller set no --default-tls-secret: self-signed, made at start.
#pragma once

#include <memory>
#include <string>

#include "pier/common/result.h"
#include "tls/certificate_set.h"

namespace pier::dataplane::tls {

inline constexpr const char* kDefaultCommonName = "Pier Default Certificate";

struct PemKeyPair {
  std::string chain_pem;
  std::string key_pem;
};

// A fresh EC P-256 key and a self-signed certificate with CN "Pier Default Certificate", valid
// from now for kDefaultValidityDays. Fails only if OpenSSL does.
Result<PemKeyPair> GenerateDefaultCertificate();

// The generated pair as a ServerCertificate (name "", no SNI names: it covers no host).
Result<std::shared_ptr<const ServerCertificate>> MakeDefaultServerCertificate();

}  // namespace pier::dataplane::tls
