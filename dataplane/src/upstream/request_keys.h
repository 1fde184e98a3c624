// What a request offers the balancer to be sticky on: the upstream-hash-by key and the
// affinity cookie. Read once per request, before anything else, and kept with the exchange so
// a retry on another endpoint decides with the same inputs.
#pragma once

#include <boost/beast/http/fields.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::upstream {

struct RequestKeys {
  // The upstream-hash-by value; nullopt when the route hashes on nothing or the request lacks
  // the header, cookie or argument (it is then balanced by the route's policy instead of
  // sending every such request to one endpoint).
  std::optional<std::string> hash_key;
  // The affinity cookie's value; nullopt without cookie affinity or without the cookie.
  std::optional<std::string> affinity_token;
  // The client used https (here, or at a trusted proxy in front): a new affinity cookie is
  // marked Secure. Set by the caller (ForwardedRequest::tls).
  bool client_https = false;
};

// `target`: the request target as received. `client`: the client address as the
// trusted-proxies rule computed it (what $remote_addr means).
RequestKeys ReadRequestKeys(const pier::v1::Route& route, const boost::beast::http::fields& fields,
                            std::string_view target, std::string_view client);

// The route's affinity cookie in the request; nullopt without cookie affinity or without the
// cookie.
std::optional<std::string> ReadAffinityToken(const pier::v1::Route& route, const boost::beast::http::fields& fields);

// The raw (still percent-encoded) value of query argument `name`, or nullopt. "?a" and "?a="
// both give "".
std::optional<std::string_view> FindQueryArg(std::string_view target, std::string_view name) noexcept;

}  // namespace pier::dataplane::upstream
