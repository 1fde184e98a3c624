#include "translate/names.h"

#include <algorithm>

namespace pier::translate {
namespace {

constexpr std::size_t kMaxHostLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

bool IsLabel(std::string_view label) noexcept {
  if (label.empty() || label.size() > kMaxLabelLength || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace

bool IsValidHost(std::string_view host) noexcept {
  if (host.empty()) return true;
  if (host.starts_with("*.")) host.remove_prefix(2);
  if (host.empty() || host.size() > kMaxHostLength) return false;
  while (true) {
    const auto dot = host.find('.');
    if (!IsLabel(host.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    host.remove_prefix(dot + 1);
  }
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
