// ASCII case-insensitive equality, how HTTP compares field names, tokens and schemes.
#pragma once

#include <cstddef>
#include <string_view>

namespace pier::dataplane::http {

inline bool IEquals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x |= 0x20;
    if (y >= 'A' && y <= 'Z') y |= 0x20;
    if (x != y) return false;
  }
  return true;
}

}  // namespace pier::dataplane::http
