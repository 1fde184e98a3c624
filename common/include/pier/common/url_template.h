// URLs with nginx-style variables, as auth-url and auth-signin carry them
// ("https://$host/oauth2/start?rd=$escaped_request_uri"). Only a fixed set of variables exists,
// each a typed value the dataplane fills in per request; any other `$name` is an error, so no
// annotation text ever reaches a place where it would be interpreted.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"

namespace pier::url_template {

enum class Variable {
  kHost,               // $host: the request's host, lowercase, without port
  kHttpHost,           // $http_host, $best_http_host: the Host header as sent (port included)
  kScheme,             // $scheme, $pass_access_scheme: "http" or "https", as the client connected
  kRequestUri,         // $request_uri: the request target as sent (path and query)
  kEscapedRequestUri,  // $escaped_request_uri: the same, percent-encoded for a query value
};

struct Piece {
  std::string literal;              // text before the variable (may be empty)
  std::optional<Variable> variable;  // none: the last piece
};

struct Template {
  std::vector<Piece> pieces;
  bool Uses(Variable variable) const;
  bool empty() const { return pieces.empty(); }
};

// Fails on an unknown variable, a `$` not followed by a name, more than 2048 bytes, or a byte
// that is not visible ASCII (spaces and control characters could split a header).
Result<Template> Parse(std::string_view text);

struct Values {
  std::string_view host;
  std::string_view http_host;
  std::string_view scheme;
  std::string_view request_uri;
};

// Values are inserted as they are, except bytes that are not visible ASCII (a space, a control
// character), which are percent-encoded: the result is always one token.
std::string Expand(const Template& url, const Values& values);

// Percent-encodes every byte but unreserved ones (RFC 3986), as a query value needs.
std::string EscapeQueryValue(std::string_view text);

// An absolute http(s) URL split at its authority: "https://auth.example:8443/check?x" ->
// {true, "auth.example", 8443, "/check?x"}. The path keeps any variables; the authority holds
// none. Fails on other schemes, userinfo, a fragment, an empty or invalid host or port.
struct AbsoluteUrl {
  bool https = false;
  std::string host;  // a DNS name, an IPv4 literal or an IPv6 literal without brackets
  uint16_t port = 0;
  std::string target;  // starts with '/'; "/" when the URL has no path
};
Result<AbsoluteUrl> SplitAbsolute(std::string_view url);

// Headers that frame a request or its connection (host, content-length, transfer-encoding,
// connection and the other hop-by-hop ones), by lowercase name: an auth service's answer may
// not set these on the request the backend gets.
bool IsFramingHeader(std::string_view lowercase_name);

}  // namespace pier::url_template
