// Whether a PEM certificate chain and private key can serve TLS. The controller checks a Secret
// with it before putting it in a snapshot (a bad Secret must not get the whole snapshot refused),
// and the dataplane checks again before accepting a snapshot (it trusts nothing it receives).
#pragma once

#include <string>

#include "pier/common/result.h"

namespace pier::tls {

// The chain is PEM with at least one certificate, every block parses, and the private key
// parses, is not encrypted, and belongs to the first (leaf) certificate, and the two install in
// a TLS server context as the dataplane installs them (extensions decode, the key and signature
// meet OpenSSL's security level). The error says which of these failed.
Result<bool> CheckKeyPair(const std::string& certificate_chain_pem, const std::string& private_key_pem);

// An OpenSSL cipher list (TLS 1.2 and below, nginx's proxy_ssl_ciphers): cipher names, aliases
// and the operators ! + - @ = separated by colons, commas or spaces, that select at least one
// cipher OpenSSL has here. The error quotes nothing of the text beyond its first bad character.
Result<bool> CheckCipherList(const std::string& ciphers);

}  // namespace pier::tls
