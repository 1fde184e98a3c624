#include "websocket/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>

#include "http/hop_by_hop.h"

namespace pier::dataplane::websocket {

namespace bhttp = boost::beast::http;

namespace {
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
}  // namespace

bool IsUpgradeRequest(const bhttp::request_header<>& request) {
  if (request.method() != bhttp::verb::get || request.version() != 11) return false;
  bool upgrade_websocket = false;
  auto [u_first, u_last] = request.equal_range(bhttp::field::upgrade);
  for (auto it = u_first; it != u_last && !upgrade_websocket; ++it) {
    upgrade_websocket = http::HasToken(it->value(), "websocket");
  }
  if (!upgrade_websocket) return false;
  auto [c_first, c_last] = request.equal_range(bhttp::field::connection);
  for (auto it = c_first; it != c_last; ++it) {
    if (http::HasToken(it->value(), "upgrade")) return true;
  }
  return false;
}

namespace {

// base64 of the 20-byte digest: 28 characters, plus the NUL EVP_EncodeBlock writes.
using AcceptText = std::array<char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1>;

// Writes the accept value for `key` into `out` and returns its length, 0 on failure. The hash
// is OpenSSL's SHA-1 block function, called directly: through EVP, OpenSSL 3 allocates,
// initialises, cleanses and frees a provider context on every digest, which cost several
// times the hash of these 60 bytes (the check runs once per proxied WebSocket handshake). The
// direct functions are deprecated in OpenSSL 3's headers, not removed; SHA-1 here serves the
// RFC 6455 handshake, not security.
std::size_t WriteAccept(std::string_view key, AcceptText& out) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  SHA_CTX context;
  if (SHA1_Init(&context) != 1 || SHA1_Update(&context, key.data(), key.size()) != 1 ||
      SHA1_Update(&context, kAcceptGuid.data(), kAcceptGuid.size()) != 1 ||
      SHA1_Final(digest.data(), &context) != 1) {
    return 0;
  }
#pragma GCC diagnostic pop
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest.data(),
                               static_cast<int>(digest.size()));
  return length > 0 ? static_cast<std::size_t>(length) : 0;
}

}  // namespace

std::string ComputeAccept(std::string_view key) {
  AcceptText text{};
  // Empty on failure: never equal to a real Sec-WebSocket-Accept, so the upgrade is refused.
  return std::string(text.data(), WriteAccept(key, text));
}

bool AcceptMatches(std::string_view key, std::string_view accept) {
  if (key.empty()) return false;
  AcceptText text{};
  std::size_t length = WriteAccept(key, text);
  return length != 0 && std::string_view(text.data(), length) == accept;
}

}  // namespace pier::dataplane::websocket
