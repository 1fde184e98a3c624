#include "pier/common/parse.h"

#include <cstdint>
#include <limits>
#include <string>

namespace pier::parse {
namespace {

constexpr bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

// Checked arithmetic: false on overflow.
bool MulAdd(uint64_t& acc, uint64_t mul, uint64_t add) noexcept {
  uint64_t product = 0;
  if (__builtin_mul_overflow(acc, mul, &product)) return false;
  return !__builtin_add_overflow(product, add, &acc);
}

// Reads a run of decimal digits into `out`; returns how many were read (0 if none) or npos on
// overflow.
std::size_t ReadInteger(std::string_view text, uint64_t& out) noexcept {
  out = 0;
  std::size_t i = 0;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    if (!MulAdd(out, 10, static_cast<uint64_t>(text[i] - '0'))) return std::string_view::npos;
  }
  return i;
}

Error DurationError(std::string_view text, std::string_view why) {
  return Fail("invalid duration \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

std::string_view TrimSpace(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

Result<std::chrono::milliseconds> Duration(std::string_view text) {
  constexpr uint64_t kMaxMs = static_cast<uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max());
  constexpr std::string_view kExpected = "expected seconds (\"60\") or a duration such as \"500ms\", \"60s\", \"1m30s\", \"1h\"";
  if (text.empty()) return DurationError(text, "empty; " + std::string(kExpected));
  if (text.front() == '-') return DurationError(text, "must not be negative");

  uint64_t whole = 0;
  std::size_t digits = ReadInteger(text, whole);
  if (digits == std::string_view::npos) return DurationError(text, "too large");
  if (digits == text.size()) {
    uint64_t ms = whole;
    if (!MulAdd(ms, 1000, 0) || ms > kMaxMs) return DurationError(text, "too large");
    return std::chrono::milliseconds(static_cast<int64_t>(ms));
  }

  uint64_t total_ms = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    digits = ReadInteger(rest, whole);
    if (digits == std::string_view::npos) return DurationError(text, "too large");
    rest.remove_prefix(digits);
    // A fraction keeps at most 9 digits: enough for nanosecond precision of an hour, and
    // small enough that fraction * unit cannot overflow.
    uint64_t fraction = 0;
    uint64_t fraction_scale = 1;
    bool has_fraction = false;
    if (!rest.empty() && rest.front() == '.') {
      rest.remove_prefix(1);
      std::size_t i = 0;
      for (; i < rest.size() && IsDigit(rest[i]); ++i) {
        if (i < 9) {
          fraction = fraction * 10 + static_cast<uint64_t>(rest[i] - '0');
          fraction_scale *= 10;
        }
      }
      has_fraction = i > 0;
      rest.remove_prefix(i);
    }
    if (digits == 0 && !has_fraction) return DurationError(text, kExpected);

    std::size_t unit_len = 0;
    while (unit_len < rest.size() && !IsDigit(rest[unit_len]) && rest[unit_len] != '.') ++unit_len;
    const std::string_view unit = rest.substr(0, unit_len);
    rest.remove_prefix(unit_len);
    uint64_t unit_ms = 0;
    if (unit == "h") {
      unit_ms = 3'600'000;
    } else if (unit == "m") {
      unit_ms = 60'000;
    } else if (unit == "s") {
      unit_ms = 1'000;
    } else if (unit == "ms") {
      unit_ms = 1;
    } else if (unit.empty()) {
      return DurationError(text, "a unit is missing after a number; " + std::string(kExpected));
    } else {
      return DurationError(text, "unknown unit \"" + std::string(unit) + "\" (use h, m, s or ms)");
    }
    uint64_t part = whole;
    if (!MulAdd(part, unit_ms, fraction * unit_ms / fraction_scale)) return DurationError(text, "too large");
    if (__builtin_add_overflow(total_ms, part, &total_ms) || total_ms > kMaxMs) {
      return DurationError(text, "too large");
    }
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

Result<uint64_t> Size(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return Fail("invalid size \"" + std::string(text) + "\": " + std::string(why));
  };
  if (text.empty()) return fail("empty; expected bytes with an optional k, m or g suffix (\"512\", \"16k\", \"1m\")");
  uint64_t value = 0;
  const std::size_t digits = ReadInteger(text, value);
  if (digits == std::string_view::npos) return fail("too large");
  if (digits == 0) return fail("expected bytes with an optional k, m or g suffix (\"512\", \"16k\", \"1m\")");
  const std::string_view suffix = text.substr(digits);
  uint64_t multiplier = 1;
  if (suffix.empty()) {
    multiplier = 1;
  } else if (suffix == "k" || suffix == "K") {
    multiplier = uint64_t{1} << 10;
  } else if (suffix == "m" || suffix == "M") {
    multiplier = uint64_t{1} << 20;
  } else if (suffix == "g" || suffix == "G") {
    multiplier = uint64_t{1} << 30;
  } else {
    return fail("unknown suffix \"" + std::string(suffix) + "\" (use k, m or g)");
  }
  if (!MulAdd(value, multiplier, 0)) return fail("too large");
  return value;
}

Result<bool> Bool(std::string_view text) {
  if (EqualsIgnoreCase(text, "true")) return true;
  if (EqualsIgnoreCase(text, "false")) return false;
  return Fail("invalid boolean \"" + std::string(text) + "\": expected true or false");
}

bool IsLocationText(std::string_view text) noexcept {
  constexpr std::size_t kMaxLocationBytes = 2048;
  if (text.empty() || text.size() > kMaxLocationBytes) return false;
  constexpr std::string_view kNeverInUri = "\"<>\\^`{|}";
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f || kNeverInUri.find(c) != std::string_view::npos) return false;
  }
  return true;
}

bool IsCookieAttributeText(std::string_view text) noexcept {
  constexpr std::size_t kMaxCookieAttributeBytes = 1024;
  if (text.empty() || text.size() > kMaxCookieAttributeBytes || text.front() == '~') return false;
  constexpr std::string_view kNever = ";,\"\\$";
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f || kNever.find(c) != std::string_view::npos) return false;
  }
  return true;
}

}  // namespace pier::parse
