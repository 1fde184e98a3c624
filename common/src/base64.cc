#include "pier/common/base64.h"

#include <array>
#include <cstdint>

namespace pier {
namespace {

constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> MakeTable() {
  std::array<int8_t, 256> table{};
  table.fill(kInvalid);
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr auto kTable = MakeTable();

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

Result<std::string> Base64Decode(std::string_view text, Base64Padding padding_rule) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t buffer = 0;
  int bits = 0;
  std::size_t symbols = 0;
  std::size_t padding = 0;
  for (char c : text) {
    if (IsSpace(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return Fail("invalid base64: data after padding");
    const int8_t value = kTable[static_cast<uint8_t>(c)];
    if (value == kInvalid) return Fail("invalid base64: unexpected character");
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (padding > 2 || symbols % 4 == 1) return Fail("invalid base64: truncated input");
  const bool must_be_whole = padding_rule == Base64Padding::kRequired || padding > 0;
  if (must_be_whole && (symbols + padding) % 4 != 0) return Fail("invalid base64: length is not a multiple of 4");
  if (padding > 0 && (4 - symbols % 4) % 4 != padding) return Fail("invalid base64: bad padding");
  return out;
}

}  // namespace pier
