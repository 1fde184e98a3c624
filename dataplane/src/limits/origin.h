// websocket-allowed-origins (RFC 6455 10.2: the server decides which Origins may open a
// WebSocket, against cross-site WebSocket hijacking). An allowed entry is "scheme://host" or
// "scheme://host:port", where host may be "*.suffix" standing for exactly one more label.
// Comparison is case-insensitive and default ports are implied: "https://a.com" and
// "https://a.com:443" are the same origin, "http://a.com:8080" is another one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pier::dataplane::limits {

// An origin split into its parts: scheme and host lowercase, port explicit.
struct ParsedOrigin {
  std::string scheme;  // "http" or "https"
  std::string host;    // a name, an IPv4 literal or a bracketed IPv6 literal; may start "*." in a pattern
  uint16_t port = 0;

  friend bool operator==(const ParsedOrigin&, const ParsedOrigin&) = default;
};

// "scheme://host[:port]", nothing after it (a browser's Origin header never has a path; a
// single trailing "/" is tolerated because some clients add one). Nullopt when it is anything
// else, "null" included (an opaque origin matches no list).
std::optional<ParsedOrigin> ParseOrigin(std::string_view text);

// True when a parsed Origin header matches one allowed entry; an entry that does not parse
// matches nothing.
bool OriginMatches(const ParsedOrigin& origin, std::string_view entry);

// True when `origin` (an Origin header value) matches one of `allowed`. An empty or
// unparseable origin matches nothing; so does an unparseable entry, so a bad list fails closed.
bool OriginAllowed(std::string_view origin, std::span<const std::string> allowed);

}  // namespace pier::dataplane::limits
