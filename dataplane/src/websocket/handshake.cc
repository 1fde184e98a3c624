#include "websocket/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <memory>

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

std::string ComputeAccept(std::string_view key) {
  // SHA1() fetches the digest implementation from OpenSSL's provider table on every call (a
  // lock and a hash lookup, more than the hash of 60 bytes itself): fetch it once, and keep one
  // context per thread.
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                                    &EVP_MD_CTX_free);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  unsigned int digest_size = 0;
  if (sha1 == nullptr || !context || EVP_DigestInit_ex2(context.get(), sha1, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), key.data(), key.size()) != 1 ||
      EVP_DigestUpdate(context.get(), kAcceptGuid.data(), kAcceptGuid.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &digest_size) != 1 || digest_size != digest.size()) {
    return {};  // never equal to a real Sec-WebSocket-Accept: the upgrade is refused, not trusted
  }
  // 20 bytes encode to 28 base64 characters plus the terminating NUL EVP_EncodeBlock writes.
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded{};
  int length = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest.size()));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length));
}

bool AcceptMatches(std::string_view key, std::string_view accept) {
  if (key.empty()) return false;
  std::string expected = ComputeAccept(key);
  return !expected.empty() && expected == accept;
}

}  // namespace pier::dataplane::websocket
