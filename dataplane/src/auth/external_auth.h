// External authentication (auth-url; nginx's auth_request): before a request is proxied, a
// request without body, carrying the client's headers, goes to the route's auth service, and
// its answer decides: 2xx lets the request through (with the headers named in
// auth-response-headers copied onto it), 401 and 403 go to the client, anything else is an error
// the client sees as 500.
//
// Each check is a new connection to the service (a DNS name is resolved then), bounded by the
// route's connect timeout and, after the connect, its read timeout, unless auth-keepalive keeps
// connections in the worker's KeepalivePool (keepalive_pool.h): then a kept one is used when
// there is one. It runs on the executor of the session that asked, which gets the answer there.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/fields.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pier/common/auth_cache.h"
#include "pier/common/result.h"
#include "pier/common/url_template.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::external_auth {

// A route's ExternalAuth, checked and parsed once per snapshot.
struct Settings {
  bool https = false;
  std::string host;  // DNS name or IP literal (IPv6 without brackets)
  uint16_t port = 0;
  std::string host_header;  // "host[:port]" as the auth service gets it
  url_template::Template target;
  std::string method;  // GET when the snapshot says ""
  std::vector<std::string> response_headers;  // lowercase
  url_template::Template signin;  // empty: a 401 goes to the client as it is
  std::string signin_redirect_param;
  url_template::Template request_redirect;
  bool always_set_cookie = false;
  // auth-cache-key: set, answers are kept (answer_cache.h) under cache_scope + the rendered key.
  std::optional<auth_cache::Key> cache_key;
  std::vector<auth_cache::Rule> cache_rules;
  std::string cache_scope;  // the service's URL and method: another service never reuses an answer
  // auth-keepalive: idle connections kept per worker (0: none), checks per connection, idle time.
  uint32_t keepalive_connections = 0;
  uint32_t keepalive_requests = 1000;
  std::chrono::milliseconds keepalive_timeout{60000};
  std::string pool_key;  // scheme, host and port: the connections any route to this service shares

  static Result<std::shared_ptr<const Settings>> Compile(const pier::v1::ExternalAuth& proto);
};

// What the dataplane knows of the request being checked.
struct Request {
  const boost::beast::http::fields* headers = nullptr;  // the client's (hop-by-hop ones removed)
  std::string_view method;
  std::string_view host;       // lowercase, without port
  std::string_view http_host;  // the Host header as sent
  std::string_view scheme;     // "http" or "https"
  std::string_view request_uri;
  std::string_view client_address;  // X-Real-IP and X-Forwarded-For
  std::string_view request_id;      // X-Request-ID
  // auth-tls-*: the ssl-client-* fields the backend gets ("Name: value\r\n" lines), which the
  // auth service gets too, in place of the client's own fields of those names. Null: the host
  // checks no client certificate, and such fields pass as any other.
  const std::string* client_certificate = nullptr;
};

struct Answer {
  enum class Kind { kAllowed, kUnauthorized, kForbidden, kError };
  Kind kind = Kind::kError;
  unsigned status = 0;  // the auth service's, 0 when it gave none
  // kAllowed: the response_headers the service sent, in its order; kUnauthorized: its
  // WWW-Authenticate values.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> cookies;  // its Set-Cookie values
  std::string error;  // kError: what went wrong
  // What the service says of keeping its answer, as nginx's cache reads it (auth-cache-key):
  // Cache-Control, X-Accel-Expires, Expires and Vary (ReadCacheControl, ReadExpiry). Forbidden,
  // or the time the service gives, whatever the status.
  bool uncacheable = false;
  std::optional<std::chrono::seconds> max_age;
  // The request headers the answer depends on (its Vary, lowercase names, at most
  // kMaxVaryNames): a kept answer serves only requests whose values of these equal those of
  // the request that got it, as nginx keeps one variant per set of values.
  std::vector<std::string> vary;
};
inline constexpr std::size_t kMaxVaryNames = 16;

// Reads one Cache-Control value into `answer` (uncacheable, max_age); s-maxage wins over
// max-age, as in nginx.
void ReadCacheControl(std::string_view value, Answer& answer);

// After Cache-Control, the rest of what the service says of keeping its answer, as nginx's
// cache reads it: `Vary: *` forbids it (so do more than kMaxVaryNames names, or one that is not
// a header name), other Vary names go to `answer.vary`; a readable X-Accel-Expires decides over everything else
// (seconds, `@` epoch seconds, 0: not kept); Expires counts only without a Cache-Control that
// decided, and one that is past or cannot be read forbids keeping. `now` is the wall clock in
// seconds since the epoch.
void ReadExpiry(const boost::beast::http::fields& response, int64_t now, Answer& answer);

// An HTTP date (IMF-fixdate, RFC 850 or asctime) in seconds since the epoch.
std::optional<int64_t> ParseHttpDate(std::string_view text);

// Whether a response with this status gets the auth service's cookies when always_set_cookie
// is off (nginx's add_header list).
bool TakesCookies(unsigned status) noexcept;

struct Timeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds read{60000};
};

class KeepalivePool;

// Starts one check; `done` runs on `executor` exactly once. `pool` is the calling worker's (only
// used with auth-keepalive; null: every check on its own connection).
void Check(const boost::asio::any_io_executor& executor, KeepalivePool* pool, std::shared_ptr<const Settings> settings,
           const Request& request, Timeouts timeouts, std::function<void(Answer)> done);

// The request the auth service gets (exposed for tests): method, target and fields.
struct AuthRequestHead {
  std::string method;
  std::string target;
  boost::beast::http::fields fields;
};
AuthRequestHead MakeRequest(const Settings& settings, const Request& request);

// The Location of a 401 turned into a redirect by auth-signin.
std::string SigninLocation(const Settings& settings, const url_template::Values& values);

// pier_external_auth_total{result}: allowed, unauthorized, forbidden, error.
void Count(Answer::Kind kind);
void RegisterMetrics();

}  // namespace pier::dataplane::external_auth
