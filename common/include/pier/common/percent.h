// Percent-encoding (RFC 3986 2.1): every byte but the unreserved characters as %XX.
#pragma once

#include <string>
#include <string_view>

namespace pier {

// A-Z a-z 0-9 - . _ ~ pass; every other byte becomes "%" and two uppercase hex digits. Safe as a
// URI path segment or query value, and what nginx's $ssl_client_escaped_cert does to a PEM.
std::string PercentEncode(std::string_view text);

}  // namespace pier
