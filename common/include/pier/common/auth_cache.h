// auth-cache-key and auth-cache-duration (ingress-nginx; nginx's proxy_cache_key and
// proxy_cache_valid on the auth_request location): which answers of an auth service are kept,
// for how long, and under which key. The key is a template of a fixed set of nginx variables,
// each a typed value the dataplane reads from the request; any other `$name` is an error, so no
// annotation text is ever interpreted.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"

namespace pier::auth_cache {

enum class Source {
  kHeader,      // $http_NAME: the request header NAME ('_' for '-', any case), values joined by ", "
  kCookie,      // $cookie_NAME: the value of the cookie NAME (case-sensitive), "" when absent
  kRemoteAddr,  // $remote_addr: the client's address (after trusted proxies)
  kRemoteUser,  // $remote_user: the user name of a Basic Authorization header, "" otherwise
  kHost,        // $host: the request's host, lowercase, without port
  kRequestUri,  // $request_uri: the request target as sent
  kScheme,      // $scheme: "http" or "https"
};

struct KeyPiece {
  std::string literal;            // text before the variable (may be empty)
  std::optional<Source> source;   // none: the last piece
  std::string name;               // kHeader: lowercase with '-'; kCookie: as written
};

struct Key {
  std::vector<KeyPiece> pieces;
  bool empty() const { return pieces.empty(); }
};

// Fails on an unknown variable, a `$` not followed by a name, a key without any variable (every
// client would share one answer), more than 1024 bytes, or a byte that is not visible ASCII.
Result<Key> ParseKey(std::string_view text);

struct Rule {
  std::vector<unsigned> statuses;  // empty with !any: 200, 301 and 302 (nginx's default)
  bool any = false;
  std::chrono::seconds ttl{0};
};

// nginx's proxy_cache_valid arguments, comma-separated: "200 202 401 5m", "200 10m, 401 30s",
// "any 1m", "5m". The time is a duration as parse::Duration reads it, at least 1 s and at most
// 30 days; statuses are 100-599.
Result<std::vector<Rule>> ParseDurations(std::string_view text);

// How long an answer with `status` is kept under `rules`: the first rule, in order, that names
// it or says `any` (nginx's order); nothing when no rule covers it.
std::optional<std::chrono::seconds> TtlFor(const std::vector<Rule>& rules, unsigned status);

}  // namespace pier::auth_cache
