#include "routing/host_name.h"

#include "pier/common/match.h"

namespace pier::dataplane {

bool IsValidDnsName(std::string_view name) noexcept { return match::IsValidDnsName(name); }

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
