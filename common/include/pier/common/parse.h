// Value parsers shared by flags and annotations. Each returns a typed value or an error that
// quotes the bad input and says what was expected, ready to show to a user.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "pier/common/result.h"

namespace pier::parse {

// A plain integer is seconds, as ingress-nginx reads its timeout annotations ("60"); otherwise
// a Go-style duration: one or more <number><unit> with units h, m, s, ms and an optional
// fraction ("500ms", "1m30s", "1.5h"). Negative, empty, overflowing and sub-millisecond-only
// garbage are errors.
Result<std::chrono::milliseconds> Duration(std::string_view text);

// nginx size syntax: a non-negative integer of bytes, optionally followed by k, m or g (either
// case) for KiB, MiB, GiB ("0", "512", "16k", "1m", "1G"). Overflow is an error.
Result<uint64_t> Size(std::string_view text);

// "true" or "false", case-insensitive.
Result<bool> Bool(std::string_view text);

// Leading and trailing spaces and tabs removed.
std::string_view TrimSpace(std::string_view text) noexcept;

// Text that may go into a Location field as it is: 1 to 2048 bytes of visible ASCII without the
// characters RFC 3986 never allows in a URI ("\"", "<", ">", "\\", "^", "`", "{", "|", "}").
// Both the controller (redirect annotations) and the dataplane (the snapshot) check with it.
bool IsLocationText(std::string_view text) noexcept;

// A word of proxy-cookie-domain/-path, the text that replaces (or is looked for in) a Set-Cookie
// Domain or Path attribute: 1 to 1024 bytes of visible ASCII without ";", ",", "\"", "\\" or
// "$" (nginx would read a variable), not starting with "~" (nginx would read a regex).
bool IsCookieAttributeText(std::string_view text) noexcept;

}  // namespace pier::parse
