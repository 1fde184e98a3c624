// Hop-by-hop header removal (RFC 9110 section 7.6.1): what one connection says about itself
// must not leak to the next one, in either direction.
#pragma once

#include <boost/beast/http/fields.hpp>

#include <string_view>

namespace pier::dataplane::http {

// Removes Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade and
// every field named in a Connection header. Framing (Content-Length / chunked) is the caller's
// to set again on the outgoing message.
void RemoveHopByHop(boost::beast::http::fields& fields);

// True when the comma-separated token list `value` holds `token` (case-insensitive), as in
// `Connection: keep-alive, Upgrade`.
bool HasToken(std::string_view value, std::string_view token);

}  // namespace pier::dataplane::http
