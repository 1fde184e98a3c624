// The typed result of reading one Ingress' annotations. Every field is either a plain default
// or std::optional where "not set" must stay distinguishable (the global default, set by a
// dataplane flag, applies then). Nothing here is text for another parser.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pier/common/cidr.h"

namespace pier::annotations {

enum class LoadBalance { kRoundRobin, kLeastConn };

struct HashBy {
  enum class Source { kRemoteAddr, kHeader, kCookie, kQueryArg };
  Source source = Source::kRemoteAddr;
  std::string name;  // header (lowercase), cookie or query argument name; "" for kRemoteAddr

  friend bool operator==(const HashBy&, const HashBy&) = default;
};

enum class AffinityMode { kBalanced, kPersistent };
enum class BackendProtocol { kHttp, kHttps };
enum class AuthType { kNone, kBasic };
// Where a basic-auth Secret keeps its users: the htpasswd file in key `auth` (auth-file), or
// one key per user (auth-map).
enum class AuthSecretType { kAuthFile, kAuthMap };
// auth-tls-verify-client (nginx's ssl_verify_client).
enum class ClientVerify { kOn, kOff, kOptional, kOptionalNoCa };

// Where permanent-redirect / temporal-redirect send a request.
struct RedirectTarget {
  std::string location;             // absolute http(s) URL or a path starting with "/"
  bool append_request_uri = false;  // the value ended with ingress-nginx's $request_uri

  friend bool operator==(const RedirectTarget&, const RedirectTarget&) = default;
};

// A Secret named by an annotation: "NAME" (the Ingress' namespace) or "NAMESPACE/NAME".
struct SecretRef {
  std::string namespace_;  // "" = the Ingress' namespace
  std::string name;

  friend bool operator==(const SecretRef&, const SecretRef&) = default;
};

// Why the routes of an Ingress must refuse every request: an invalid security annotation.
struct FailClosed {
  uint32_t status = 403;
  std::string reason;
};

// proxy-next-upstream: the failures after which a request may go to another endpoint.
struct NextUpstreamWhen {
  bool error = false;
  bool timeout = false;
  bool invalid_header = false;
  bool non_idempotent = false;
  std::vector<uint32_t> statuses;  // sorted: 403, 404, 429, 500, 502, 503, 504

  friend bool operator==(const NextUpstreamWhen&, const NextUpstreamWhen&) = default;
};

struct IngressAnnotations {
  // WebSocket
  bool websocket = true;
  std::optional<std::vector<std::string>> websocket_services;  // nullopt: every backend
  std::optional<std::chrono::milliseconds> websocket_idle_timeout;
  std::optional<std::vector<std::string>> websocket_allowed_origins;  // nullopt: any Origin

  // Timeouts; nullopt: the dataplane's global default.
  std::optional<std::chrono::milliseconds> proxy_connect_timeout;
  std::optional<std::chrono::milliseconds> proxy_read_timeout;
  std::optional<std::chrono::milliseconds> proxy_send_timeout;

  // Retries on another endpoint; nullopt: ingress-nginx's defaults (error timeout, 3 tries, no
  // time limit), which the dataplane applies to a route without the setting.
  std::optional<NextUpstreamWhen> proxy_next_upstream;
  std::optional<uint32_t> proxy_next_upstream_tries;  // 0: as many as the endpoints
  std::optional<std::chrono::milliseconds> proxy_next_upstream_timeout;  // 0: no limit

  // Balancing and stickiness
  LoadBalance load_balance = LoadBalance::kRoundRobin;
  std::optional<HashBy> upstream_hash_by;
  bool affinity_cookie = false;  // affinity: cookie
  AffinityMode affinity_mode = AffinityMode::kBalanced;
  std::string session_cookie_name = "PIER_AFFINITY";
  std::optional<std::string> session_cookie_path;  // nullopt: the route's path
  std::optional<std::chrono::seconds> session_cookie_max_age;  // nullopt: session cookie
  std::optional<std::chrono::seconds> session_cookie_expires;  // sent as Max-Age when max-age is unset
  bool session_cookie_secure = false;
  // Set: decides what affinity_mode decides (true: balanced, false: persistent).
  std::optional<bool> session_cookie_change_on_failure;
  std::string session_cookie_samesite;  // "", "Strict", "Lax" or "None"
  std::string session_cookie_domain;

  // Limits (per client IP and per route, per dataplane); nullopt: unlimited.
  std::optional<uint32_t> limit_connections;
  std::optional<uint32_t> limit_rps;
  std::optional<uint32_t> limit_rpm;
  uint32_t limit_burst_multiplier = 5;
  std::vector<Cidr> limit_allowlist;
  std::optional<uint32_t> max_connections;

  // Access control
  std::vector<Cidr> allowlist_source_range;
  std::vector<Cidr> denylist_source_range;
  // satisfy: any. The source ranges or the authentication (basic, auth-url) let a client in,
  // instead of both having to.
  bool satisfy_any = false;

  // TLS and the backend
  std::optional<bool> ssl_redirect;  // nullopt: redirect when the host has TLS
  bool force_ssl_redirect = false;
  // Strict-Transport-Security, sent only for hosts with TLS.
  bool hsts = false;
  std::chrono::seconds hsts_max_age{31'536'000};
  bool hsts_include_subdomains = false;
  BackendProtocol backend_protocol = BackendProtocol::kHttp;
  // service-upstream: proxy to the Service's cluster IP instead of its endpoints.
  bool service_upstream = false;
  bool enable_access_log = true;  // false: the dataplane logs no line for these routes
  // default-backend: the Service (this namespace, its first port) that serves the routes whose
  // own Service has no ready endpoint (or is missing); "" for none.
  std::string default_backend;
  // custom-http-errors: backend statuses (sorted, 400..599) answered by the default backend's page.
  std::vector<uint32_t> custom_http_errors;
  // TLS to the backend (with backend-protocol HTTPS only). The CA Secret is resolved by the
  // translator, which is where a missing Secret or a bad ca.crt is found.
  std::optional<SecretRef> proxy_ssl_secret;
  std::optional<bool> proxy_ssl_verify;  // nullopt: verify exactly when proxy_ssl_secret is set
  std::string proxy_ssl_name;  // "": the Service's DNS name
  bool proxy_ssl_server_name = true;  // send the name as SNI (ingress-nginx's default is off)
  uint32_t proxy_ssl_verify_depth = 1;
  std::string proxy_ssl_ciphers;  // "": OpenSSL's defaults
  // proxy-ssl-protocols as a range of TLS versions (TLS1_2_VERSION, TLS1_3_VERSION); 0: 1.2 to 1.3.
  uint32_t proxy_ssl_min_protocol = 0;
  uint32_t proxy_ssl_max_protocol = 0;

  // Client certificates (auth-tls-*): a property of the host, which the translator takes from
  // the oldest of its Ingresses that sets auth-tls-secret and resolves the CA Secret for.
  std::optional<SecretRef> auth_tls_secret;
  ClientVerify auth_tls_verify_client = ClientVerify::kOn;
  uint32_t auth_tls_verify_depth = 1;
  std::string auth_tls_error_page;  // "": 400 on a refused certificate
  bool auth_tls_pass_certificate_to_upstream = false;
  std::string auth_tls_match_cn;  // RE2 over the subject (RFC 2253); "": any subject

  // Basic authentication. The Secret is resolved by the translator, which is where a missing
  // Secret or an unusable htpasswd file is found (the routes then fail closed).
  AuthType auth_type = AuthType::kNone;
  std::optional<SecretRef> auth_secret;
  AuthSecretType auth_secret_type = AuthSecretType::kAuthFile;
  std::string auth_realm;  // ingress-nginx's default: an empty realm

  // External authentication (auth-url). The URL's $host in its authority is put in per route by
  // the translator, which knows each route's host.
  std::string auth_url;                            // "": none; checked by AuthUrl()
  std::string auth_method;                         // "": GET
  std::vector<std::string> auth_response_headers;  // lowercase header names
  std::string auth_signin;                         // "": a 401 goes to the client as it is
  std::string auth_signin_redirect_param;          // "": rd
  std::string auth_request_redirect;               // "": $request_uri
  bool auth_always_set_cookie = false;
  std::string auth_cache_key;       // "": answers are not kept; checked by AuthCacheKey()
  std::string auth_cache_duration;  // "": "200 202 401 5m" (ingress-nginx's default)
  uint32_t auth_keepalive = 0;                          // idle connections kept; 0: none
  uint32_t auth_keepalive_requests = 1000;              // checks per kept connection
  std::optional<std::chrono::milliseconds> auth_keepalive_timeout;  // unset: 60 s

  // Redirects the route answers instead of proxying. permanent wins when both are set.
  std::optional<RedirectTarget> permanent_redirect;
  uint32_t permanent_redirect_code = 301;
  std::optional<RedirectTarget> temporal_redirect;
  uint32_t temporal_redirect_code = 302;
  std::string app_root;  // "": none
  std::string upstream_vhost;  // the Host sent to the backend; "": the client's
  // proxy-redirect-from/-to: "" for none ("off" and "default" read as none too).
  std::string proxy_redirect_from;
  std::string proxy_redirect_to;
  // proxy-cookie-domain/-path "FROM TO": empty for none ("off").
  std::string proxy_cookie_domain_from, proxy_cookie_domain_to;
  std::string proxy_cookie_path_from, proxy_cookie_path_to;

  // server-alias: more host names served with the paths of this Ingress' rules.
  std::vector<std::string> server_aliases;  // lowercase, sorted, unique
  // from-to-www-redirect: the www. variant of each rule host (or the name without www.)
  // redirects to the rule host.
  bool from_to_www_redirect = false;
  // ssl-passthrough: TLS connections for the rule hosts go unread to the backend of the path
  // "/" (only with the controller's --enable-ssl-passthrough).
  bool ssl_passthrough = false;
  // ssl-ciphers: the TLS 1.2 cipher list of handshakes naming this Ingress' hosts; "": the
  // dataplane's own. A property of the host (the oldest Ingress setting it wins).
  std::string ssl_ciphers;
  // ssl-prefer-server-ciphers: nullopt when not set (it is decided with ssl-ciphers, per host).
  std::optional<bool> ssl_prefer_server_ciphers;

  // Regex paths and rewrites.
  bool use_regex = false;
  std::string rewrite_target;      // "": none; a path with $0..$9 (pier/common/path_regex.h)
  std::string x_forwarded_prefix;  // "": none
  // Whether this Ingress' Prefix and ImplementationSpecific paths are regexes (rewrite-target
  // implies use-regex, as in ingress-nginx).
  bool RegexPaths() const noexcept { return use_regex || !rewrite_target.empty(); }

  // CORS. The defaults are ingress-nginx's.
  bool enable_cors = false;
  std::vector<std::string> cors_allow_origins;  // lowercase origins; empty: any Origin ("*")
  std::string cors_allow_methods = "GET, PUT, POST, DELETE, PATCH, OPTIONS";
  std::string cors_allow_headers =
      "DNT, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Range, "
      "Authorization";
  std::string cors_expose_headers;  // "": none
  bool cors_allow_credentials = true;
  uint32_t cors_max_age_s = 1'728'000;
  // A cors-* value was invalid: the Ingress sends no CORS headers at all (browsers then refuse
  // cross-origin reads) rather than keep a default that may allow more than was meant.
  bool cors_invalid = false;

  // Canary: this Ingress serves some of the requests for the host and paths of another
  // (non-canary) Ingress. Only the canary-* keys, load balancing and affinity of a canary
  // Ingress apply; its other settings are the main Ingress' (as in ingress-nginx).
  bool canary = false;
  uint32_t canary_weight = 0;
  uint32_t canary_weight_total = 100;
  std::string canary_by_header;  // lowercase header name; "": none
  std::string canary_by_header_value;
  std::string canary_by_header_pattern;  // RE2, case-sensitive, searched in the value
  std::string canary_by_cookie;
  bool affinity_canary_legacy = false;  // affinity-canary-behavior: legacy

  // Sizes; nullopt: the global default. proxy_body_size 0 means unlimited.
  std::optional<uint64_t> proxy_body_size;
  std::optional<uint32_t> proxy_buffer_size;
  // limit-rate (KiB/s, 0 = none) and limit-rate-after (KiB), as ingress-nginx's integers.
  uint64_t limit_rate_kib = 0;
  uint64_t limit_rate_after_kib = 0;

  // Set when a security annotation was invalid: the Ingress' routes must fail closed.
  std::optional<FailClosed> fail_closed;
};

}  // namespace pier::annotations
