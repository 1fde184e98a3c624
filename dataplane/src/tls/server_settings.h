// The TLS policy every server context of the dataplane shares: TLS 1.2 and 1.3 only, Mozilla's
// "intermediate" cipher list, ALPN http/1.1, no renegotiation or compression. The listener's
// base context and every per-certificate context get the same settings, because after the SNI
// callback switches contexts OpenSSL reads some of them (ALPN) from the new one.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include "pier/common/result.h"

namespace pier::dataplane::tls {

// Mozilla intermediate (TLS 1.2 suites; TLS 1.3 suites are OpenSSL's defaults, all AEAD). No
// DHE: it needs parameters and ECDHE covers every client the intermediate profile targets.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* kGroups = "X25519:prime256v1:secp384r1";

// Applies the policy to a fresh server context. Fails only if OpenSSL refuses a setting.
Result<bool> ApplyServerSettings(boost::asio::ssl::context& context);

// A server context holding this chain and key, with the policy applied. The error names the
// step that failed (chain, key, key mismatch).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(const std::string& chain_pem,
                                                                     const std::string& key_pem);

}  // namespace pier::dataplane::tls
