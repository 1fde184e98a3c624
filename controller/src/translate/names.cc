#include "translate/names.h"

#include <algorithm>

#include "pier/common/match.h"

namespace pier::translate {

bool IsValidHost(std::string_view host) noexcept {
  if (host.empty()) return true;
  if (host.starts_with("*.")) host.remove_prefix(2);
  return match::IsValidDnsName(host);
}

bool IsValidPath(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/') return false;
  return std::none_of(path.begin(), path.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
}

std::string LowercaseAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace pier::translate
