#include "limits/origin.h"

#include <charconv>

namespace pier::dataplane::limits {

namespace {

constexpr uint16_t kHttpPort = 80;
constexpr uint16_t kHttpsPort = 443;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool IsValidName(std::string_view host) {
  if (host.empty() || host.front() == '.' || host.back() == '.' || host.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : host) {
    if (!IsHostChar(c)) return false;
  }
  return true;
}

bool IsValidIpv6Literal(std::string_view host) {
  // "[...]": hex digits, colons and dots (an embedded IPv4), nothing that could hide a port.
  if (host.size() < 4 || host.front() != '[' || host.back() != ']') return false;
  for (char c : host.substr(1, host.size() - 2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.')) return false;
  }
  return true;
}

// "*.example.com" matches "a.example.com", not "example.com" nor "a.b.example.com".
bool HostMatches(std::string_view pattern, std::string_view host) {
  if (!pattern.starts_with("*.")) return pattern == host;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (host.size() <= suffix.size() || !host.ends_with(suffix)) return false;
  const std::string_view label = host.substr(0, host.size() - suffix.size());
  return label.find('.') == std::string_view::npos;
}

}  // namespace

std::optional<ParsedOrigin> ParseOrigin(std::string_view text) {
  const std::string lower = Lower(text);
  std::string_view rest = lower;
  ParsedOrigin origin;
  if (rest.starts_with("https://")) {
    origin.scheme = "https";
    origin.port = kHttpsPort;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    origin.scheme = "http";
    origin.port = kHttpPort;
    rest.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);

  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = rest.substr(0, close + 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (port.empty()) return std::nullopt;
    }
    if (!IsValidIpv6Literal(host)) return std::nullopt;
  } else {
    if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
    const std::string_view name = host.starts_with("*.") ? host.substr(2) : host;
    if (!IsValidName(name)) return std::nullopt;
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    origin.port = static_cast<uint16_t>(value);
  }
  origin.host = std::string(host);
  return origin;
}

bool OriginMatches(const ParsedOrigin& origin, std::string_view entry) {
  if (origin.host.starts_with("*.")) return false;  // a client cannot send a pattern
  const auto pattern = ParseOrigin(entry);
  return pattern && pattern->scheme == origin.scheme && pattern->port == origin.port &&
         HostMatches(pattern->host, origin.host);
}

bool OriginAllowed(std::string_view origin, std::span<const std::string> allowed) {
  const auto parsed = ParseOrigin(origin);
  if (!parsed) return false;
  for (const std::string& entry : allowed) {
    if (OriginMatches(*parsed, entry)) return true;
  }
  return false;
}

}  // namespace pier::dataplane::limits
