#include "kube/base64.h"

#include <array>
#include <cstdint>

namespace pier::kube {
namespace {

constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> MakeTable() {
  std::array<int8_t, 256> table{};
  table.fill(kInvalid);
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < kAlphabet.size(); ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr auto kTable = MakeTable();

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

Result<std::string> DecodeBase64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t group = 0;
  int count = 0;    // sextets in the current group
  int padding = 0;  // '=' seen; only whitespace and more '=' may follow
  for (char c : text) {
    if (IsSpace(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return Fail("invalid base64: data after '=' padding");
    int8_t value = kTable[static_cast<unsigned char>(c)];
    if (value == kInvalid) return Fail("invalid base64: unexpected character");
    group = (group << 6) | static_cast<uint32_t>(value);
    if (++count == 4) {
      out.push_back(static_cast<char>((group >> 16) & 0xff));
      out.push_back(static_cast<char>((group >> 8) & 0xff));
      out.push_back(static_cast<char>(group & 0xff));
      group = 0;
      count = 0;
    }
  }
  // A trailing group of 2 or 3 sextets carries 1 or 2 bytes; padding, when present, must
  // complete it to 4. A single sextet cannot encode a byte.
  if (count == 1) return Fail("invalid base64: truncated input");
  if (padding > 0 && count + padding != 4) return Fail("invalid base64: wrong padding");
  if (count == 2) {
    out.push_back(static_cast<char>((group >> 4) & 0xff));
  } else if (count == 3) {
    out.push_back(static_cast<char>((group >> 10) & 0xff));
    out.push_back(static_cast<char>((group >> 2) & 0xff));
  }
  return out;
}

}  // namespace pier::kube
