#include "pier/common/url_template.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

#include "pier/common/match.h"
#include "pier/common/nginx_variables.h"

namespace pier::url_template {
namespace {

constexpr std::size_t kMaxLength = 2048;

constexpr std::array<std::pair<std::string_view, Variable>, 7> kNames = {{
    {"host", Variable::kHost},
    {"http_host", Variable::kHttpHost},
    {"best_http_host", Variable::kHttpHost},
    {"scheme", Variable::kScheme},
    {"pass_access_scheme", Variable::kScheme},
    {"request_uri", Variable::kRequestUri},
    {"escaped_request_uri", Variable::kEscapedRequestUri},
}};

void AppendPercent(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto byte = static_cast<unsigned char>(c);
  out += '%';
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

bool IsNameChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

bool Template::Uses(Variable variable) const {
  return std::any_of(pieces.begin(), pieces.end(), [&](const Piece& piece) { return piece.variable == variable; });
}

Result<Template> Parse(std::string_view text) {
  auto parts = nginx_variables::Split(text, kMaxLength, IsNameChar);
  if (!parts) return Fail(parts.error());
  Template out;
  for (nginx_variables::Part& part : *parts) {
    if (part.name.empty()) {
      if (!part.literal.empty() || out.pieces.empty()) out.pieces.push_back(Piece{std::move(part.literal), std::nullopt});
      continue;
    }
    const auto* known =
        std::find_if(kNames.begin(), kNames.end(), [&](const auto& entry) { return entry.first == part.name; });
    if (known == kNames.end()) {
      return Fail("unknown variable $" + std::string(part.name) +
                  " (known: $host, $http_host, $best_http_host, $scheme, $pass_access_scheme, $request_uri, "
                  "$escaped_request_uri)");
    }
    out.pieces.push_back(Piece{std::move(part.literal), known->second});
  }
  return out;
}

std::string EscapeQueryValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      AppendPercent(out, c);
    }
  }
  return out;
}

namespace {

// A value as it comes from a request (a Host header may hold any visible byte, and more): what is
// not visible ASCII is percent-encoded, so an expanded URL stays one token of a request line.
void AppendVisible(std::string& out, std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7f) {
      out += c;
    } else {
      AppendPercent(out, c);
    }
  }
}

}  // namespace

std::string Expand(const Template& url, const Values& values) {
  std::string out;
  for (const Piece& piece : url.pieces) {
    out += piece.literal;
    if (!piece.variable) continue;
    switch (*piece.variable) {
      case Variable::kHost:
        AppendVisible(out, values.host);
        break;
      case Variable::kHttpHost:
        AppendVisible(out, values.http_host);
        break;
      case Variable::kScheme:
        AppendVisible(out, values.scheme);
        break;
      case Variable::kRequestUri:
        AppendVisible(out, values.request_uri);
        break;
      case Variable::kEscapedRequestUri:
        out += EscapeQueryValue(values.request_uri);
        break;
    }
  }
  return out;
}

bool IsFramingHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kFraming = {
      "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
      "te",   "trailer",        "upgrade",           "expect"};
  return std::find(kFraming.begin(), kFraming.end(), name) != kFraming.end();
}

Result<AbsoluteUrl> SplitAbsolute(std::string_view url) {
  AbsoluteUrl out;
  auto starts = [&](std::string_view prefix) {
    return url.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), url.begin(),
                      [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
  };
  if (starts("https://")) {
    out.https = true;
    url.remove_prefix(8);
  } else if (starts("http://")) {
    url.remove_prefix(7);
  } else {
    return Fail("not an absolute http:// or https:// URL");
  }
  if (url.find('#') != std::string_view::npos) return Fail("has a fragment");
  const std::size_t authority_end = url.find_first_of("/?");
  std::string_view authority = url.substr(0, authority_end);
  const std::string_view rest = authority_end == std::string_view::npos ? std::string_view() : url.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return Fail("has user information");
  if (authority.find('$') != std::string_view::npos) return Fail("has a variable in its host or port");
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail("has an unclosed '[' in its host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Fail("has bytes after its IPv6 address");
      port = after.substr(1);
    }
    in6_addr address{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) return Fail("has an invalid IPv6 address");
    out.host = std::string(host);
  } else {
    if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    std::string lower(host);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!match::IsValidDnsName(lower)) return Fail("has no valid host name");
    out.host = std::move(lower);
  }
  out.port = out.https ? 443 : 80;
  if (authority.size() > 0 && port.data() != nullptr) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Fail("has an invalid port");
    }
    out.port = static_cast<uint16_t>(value);
  }
  out.target = rest.empty() ? "/" : rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  return out;
}

}  // namespace pier::url_template
