// The sticky-session cookie: its value names an endpoint without revealing it, and any
// dataplane holding the same snapshot maps it back to the same endpoint with no shared state.
//
// The value is the first 64 bits of SHA-256("pier-affinity-v1" NUL endpoint-id), in hex. It
// keeps backend addresses out of browsers and logs, but it is not a secret: there is no key, so
// whoever can list candidate addresses can hash them too. It only has to be stable and opaque.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::upstream {

inline constexpr std::size_t kAffinityTokenLength = 16;

// The cookie value for an endpoint id ("address:port").
std::string AffinityToken(std::string_view endpoint_id);

// The Set-Cookie field value that pins the client to `token`: Path, Max-Age, Domain and
// SameSite from the route's affinity, always HttpOnly (page scripts have no use for it), and
// Secure when the route asks for it or the client used https (`client_https`), as
// ingress-nginx marks it. The snapshot validation already refused attribute values that could
// break out of the header.
std::string AffinitySetCookie(const pier::v1::Affinity& affinity, std::string_view token, bool client_https = false);

// The value of cookie `name` in one Cookie header ("a=1; b=2"), or nullopt. The first match
// wins: browsers send the cookie with the most specific Path first (RFC 6265 5.4).
std::optional<std::string_view> FindCookie(std::string_view cookie_header, std::string_view name) noexcept;

}  // namespace pier::dataplane::upstream
