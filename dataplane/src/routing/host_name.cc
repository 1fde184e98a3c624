#include "routing/host_name.h"

#include "routing/bounds.h"

namespace pier::dataplane {
namespace {

bool IsLabelChar(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

bool IsValidLabel(std::string_view label) noexcept {
  if (label.empty() || label.size() > bounds::kMaxLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsLabelChar(c)) return false;
  }
  return true;
}

}  // namespace

bool IsValidDnsName(std::string_view name) noexcept {
  if (name.empty() || name.size() > bounds::kMaxHostLength) return false;
  while (true) {
    const auto dot = name.find('.');
    if (!IsValidLabel(name.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

bool IsValidHostPattern(std::string_view pattern) noexcept {
  if (pattern.starts_with("*.")) pattern.remove_prefix(2);
  return IsValidDnsName(pattern);
}

bool IsNormalizedHost(std::string_view host) noexcept {
  if (!host.empty() && host.back() == '.') return false;
  for (char c : host) {
    if ((c >= 'A' && c <= 'Z') || c == ':') return false;
  }
  return true;
}

}  // namespace pier::dataplane
