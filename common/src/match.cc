#include "pier/common/match.h"

namespace pier::match {
namespace {

constexpr char ToLowerAscii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view EffectivePath(PathRule rule) noexcept {
  return rule.exact || rule.regex ? rule.path : NormalizePrefix(rule.path);
}

int Rank(PathRule rule) noexcept { return rule.exact ? 0 : (rule.regex ? 2 : 1); }

// RFC 1035: a name is at most 253 characters in text form, a label at most 63.
constexpr std::size_t kMaxHostLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

bool IsValidLabel(std::string_view label) noexcept {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

bool IsValidDnsName(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxHostLength) return false;
  while (true) {
    const auto dot = name.find('.');
    if (!IsValidLabel(name.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

std::string_view NormalizePrefix(std::string_view pattern) noexcept {
  while (pattern.size() > 1 && pattern.back() == '/') pattern.remove_suffix(1);
  return pattern;
}

bool PathMatches(bool exact, std::string_view pattern, std::string_view request_path) noexcept {
  if (exact) return request_path == pattern;
  const std::string_view prefix = NormalizePrefix(pattern);
  if (prefix == "/") return !request_path.empty() && request_path.front() == '/';
  if (!request_path.starts_with(prefix)) return false;
  // Element-wise: the prefix must end where a path element ends.
  return request_path.size() == prefix.size() || request_path[prefix.size()] == '/';
}

bool IsWildcardHost(std::string_view pattern) noexcept { return pattern.size() > 2 && pattern.starts_with("*."); }

bool HostMatches(std::string_view pattern, std::string_view host) noexcept {
  if (pattern.empty()) return true;
  if (!IsWildcardHost(pattern)) return pattern == host;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (host.size() <= suffix.size() || !host.ends_with(suffix)) return false;
  // The wildcard covers exactly one label: non-empty and without dots.
  const std::string_view label = host.substr(0, host.size() - suffix.size());
  return label.find('.') == std::string_view::npos;
}

std::string NormalizeHost(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else {
    const auto colon = host.find(':');
    // More than one colon is an unbracketed IPv6 literal, not host:port; leave it whole.
    if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
      host = host.substr(0, colon);
    }
    if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
  }
  std::string out(host);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

int ComparePrecedence(PathRule a, PathRule b) noexcept {
  const std::string_view pa = EffectivePath(a);
  const std::string_view pb = EffectivePath(b);
  if (pa.size() != pb.size()) return pa.size() > pb.size() ? -1 : 1;
  if (Rank(a) != Rank(b)) return Rank(a) < Rank(b) ? -1 : 1;
  const int bytes = pa.compare(pb);
  return bytes < 0 ? -1 : (bytes > 0 ? 1 : 0);
}

}  // namespace pier::match
