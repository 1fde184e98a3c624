// X-Request-ID: a client's (or an outer proxy's) id is kept when it is safe to log and forward,
// otherwise the proxy makes one, so every request can be followed through the logs.
#pragma once

#include <string>
#include <string_view>

namespace pier::dataplane::http {

inline constexpr std::size_t kMaxRequestIdLength = 128;

// 1..128 characters of [A-Za-z0-9._:-]: enough for UUIDs and trace ids, nothing that could
// break a log line or a header.
bool IsValidRequestId(std::string_view id) noexcept;

// 32 lowercase hex digits (128 random bits) from a per-thread generator.
std::string GenerateRequestId();

}  // namespace pier::dataplane::http
