// The TLS part of snapshot validation: a certificate the dataplane cannot load must be refused
// with the snapshot, not discovered at the first handshake.
#pragma once

#include "pier/common/pem_check.h"
#include "pier/common/result.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane {

// The chain is PEM with at least one certificate, every block parses, and the private key
// parses and belongs to the first (leaf) certificate. The error says which of these failed.
inline Result<bool> CheckCertificate(const pier::v1::TlsCertificate& certificate) {
  return tls::CheckKeyPair(certificate.certificate_chain_pem(), certificate.private_key_pem());
}

}  // namespace pier::dataplane
