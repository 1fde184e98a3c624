// Reading the PEM a Secret carries (certificate chains, private keys, CA bundles, CRLs) into
// OpenSSL. The dataplane loads everything it serves, presents or trusts with these functions, and
// the controller checks a Secret by running the same functions on a scratch context or store
// before it puts the bytes in a snapshot: a Secret the dataplane would refuse makes it refuse the
// whole snapshot, so the two must agree to the byte, and sharing the code is how they do.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pier/common/result.h"

namespace pier::tls {

// Installs a PEM certificate chain (leaf first, then its intermediates) and the leaf's private
// key into `context`: the leaf with its trust data (PEM_read_bio_X509_AUX, which refuses bytes
// after the DER), the rest as the context's chain, then the key. Every block must parse, the key
// must not be encrypted (nothing ever asks for a passphrase), every certificate must meet the
// context's security level (key size, signature digest), the leaf's extensions must decode and
// the key must belong to the leaf. On failure the context may hold part of the pair and should
// be thrown away; the OpenSSL error queue is left empty either way.
Result<bool> UseKeyPair(SSL_CTX* context, std::string_view certificate_chain_pem, std::string_view private_key_pem);

// Adds every certificate of a PEM bundle to `store`, and with `names` also pushes each one's
// subject (what a server names as acceptable CAs). The bundle must hold at least one
// certificate and nothing that fails to parse. `what` names the bundle in errors ("ca.crt").
Result<bool> AddCertificates(X509_STORE* store, std::string_view pem, STACK_OF(X509_NAME) * names,
                             const std::string& what);

// Adds every CRL of a PEM bundle to `store` (at least one, every block parses). With
// `earliest_next_update`, lowers it to the earliest nextUpdate (Unix seconds) among them.
Result<bool> AddCrls(X509_STORE* store, std::string_view pem, std::optional<int64_t>* earliest_next_update,
                     const std::string& what);

// AddCertificates and AddCrls on a scratch store: what the controller runs on a Secret's
// ca.crt and ca.crl.
Result<bool> CheckCertificateBundle(std::string_view pem, const std::string& what);
Result<bool> CheckCrlBundle(std::string_view pem, const std::string& what);

// UseKeyPair on a scratch TLS server context: whether the pair can serve (or present) TLS. The
// error says which step failed.
Result<bool> CheckKeyPair(const std::string& certificate_chain_pem, const std::string& private_key_pem);

// An OpenSSL cipher list (TLS 1.2 and below, nginx's proxy_ssl_ciphers): cipher names, aliases
// and the operators ! + - @ = separated by colons, commas or spaces, that select at least one
// cipher OpenSSL has here. The error quotes nothing of the text beyond its first bad character.
Result<bool> CheckCipherList(const std::string& ciphers);

}  // namespace pier::tls
