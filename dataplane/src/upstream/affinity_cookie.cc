#include "upstream/affinity_cookie.h"

#include <openssl/evp.h>

#include <array>

namespace pier::dataplane::upstream {
namespace {

constexpr std::string_view kTokenDomain = "pier-affinity-v1";

std::string_view TrimSpaces(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string AffinityToken(std::string_view endpoint_id) {
  std::string input(kTokenDomain);
  input.push_back('\0');
  input.append(endpoint_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(kAffinityTokenLength);
  // SHA-256 of a short buffer only fails when OpenSSL cannot allocate; fall back to a value no
  // endpoint has, so the client is balanced afresh instead of pinned wrongly.
  if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length < kAffinityTokenLength / 2) {
    return std::string(kAffinityTokenLength, '0');
  }
  for (std::size_t i = 0; i < kAffinityTokenLength / 2; ++i) {
    token.push_back(kHex[digest[i] >> 4]);
    token.push_back(kHex[digest[i] & 0x0f]);
  }
  return token;
}

std::string AffinitySetCookie(const pier::v1::Affinity& affinity, std::string_view token, bool client_https) {
  std::string value;
  value.reserve(affinity.cookie_name().size() + token.size() + 96);
  value.append(affinity.cookie_name()).append("=").append(token);
  value.append("; Path=").append(affinity.cookie_path().empty() ? "/" : affinity.cookie_path());
  if (affinity.cookie_max_age_s() != 0) value.append("; Max-Age=").append(std::to_string(affinity.cookie_max_age_s()));
  if (!affinity.cookie_domain().empty()) value.append("; Domain=").append(affinity.cookie_domain());
  if (affinity.cookie_secure() || client_https) value.append("; Secure");
  value.append("; HttpOnly");
  if (!affinity.cookie_samesite().empty()) value.append("; SameSite=").append(affinity.cookie_samesite());
  return value;
}

std::optional<std::string_view> FindCookie(std::string_view cookie_header, std::string_view name) noexcept {
  while (!cookie_header.empty()) {
    const std::size_t end = cookie_header.find(';');
    std::string_view pair = TrimSpaces(cookie_header.substr(0, end));
    cookie_header = end == std::string_view::npos ? std::string_view() : cookie_header.substr(end + 1);
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    if (TrimSpaces(pair.substr(0, equals)) != name) continue;
    std::string_view value = TrimSpaces(pair.substr(equals + 1));
    // RFC 6265 allows the value in double quotes; the quotes are not part of it.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

}  // namespace pier::dataplane::upstream
