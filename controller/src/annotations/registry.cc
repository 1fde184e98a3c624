#include "annotations/registry.h"

#include <algorithm>
#include <array>

#include "annotations/unsupported.h"
#include "annotations/value_parsers.h"
#include "pier/common/cidr.h"
#include "pier/common/parse.h"
#include "pier/common/pem_check.h"

namespace pier::annotations {
namespace {

using std::chrono::milliseconds;
using A = IngressAnnotations;

// The dataplane refuses a snapshot with a timeout over a week (dataplane/src/routing/bounds.h):
// longer is a unit mistake, not a wish, and must not reach it.
constexpr int64_t kMaxTimeoutMs = int64_t{7} * 24 * 3600 * 1000;

// Composable parsers: each sets one field of IngressAnnotations only when the value is valid.

template <bool A::*Member>
Result<bool> SetBool(std::string_view text, A& out) {
  auto value = parse::Bool(text);
  if (!value) return Fail(value.error());
  out.*Member = *value;
  return true;
}

template <std::optional<bool> A::*Member>
Result<bool> SetOptionalBool(std::string_view text, A& out) {
  auto value = parse::Bool(text);
  if (!value) return Fail(value.error());
  out.*Member = *value;
  return true;
}

template <std::optional<milliseconds> A::*Member>
Result<bool> SetTimeout(std::string_view text, A& out) {
  auto value = parse::Duration(text);
  if (!value) return Fail(value.error());
  if (value->count() <= 0) return Fail("must be greater than 0");
  if (value->count() > kMaxTimeoutMs) return Fail("must be at most " + std::to_string(kMaxTimeoutMs / 1000) + "s");
  out.*Member = *value;
  return true;
}

template <auto Member, uint32_t kMin, uint32_t kMax>
Result<bool> SetCount(std::string_view text, A& out) {
  auto value = Count(text, kMin, kMax);
  if (!value) return Fail(value.error());
  out.*Member = *value;
  return true;
}

// ingress-nginx reads "0" as "no limit", and Ingresses migrating from it carry that value: it
// must not turn into a route that fails closed.
template <std::optional<uint32_t> A::*Member, uint32_t kMax>
Result<bool> SetLimit(std::string_view text, A& out) {
  auto value = Count(text, 0, kMax);
  if (!value) return Fail(value.error());
  out.*Member = *value == 0 ? std::nullopt : std::optional<uint32_t>(*value);
  return true;
}

template <std::vector<Cidr> A::*Member>
Result<bool> SetCidrs(std::string_view text, A& out) {
  auto value = ParseCidrList(text);
  if (!value) return Fail(value.error());
  out.*Member = std::move(*value);
  return true;
}

template <std::string A::*Member, Result<std::string> (*Validate)(std::string_view)>
Result<bool> SetString(std::string_view text, A& out) {
  auto value = Validate(text);
  if (!value) return Fail(value.error());
  out.*Member = std::move(*value);
  return true;
}

// One-off parsers.

Result<bool> SetWebsocketServices(std::string_view text, A& out) {
  auto value = ServiceNames(text);
  if (!value) return Fail(value.error());
  out.websocket_services = std::move(*value);
  return true;
}

Result<bool> SetDefaultBackend(std::string_view text, A& out) {
  auto value = ServiceNames(text);
  if (!value) return Fail(value.error());
  if (value->size() != 1) return Fail("one Service name, not a list");
  out.default_backend = std::move(value->front());
  return true;
}

Result<bool> SetCustomHttpErrors(std::string_view text, A& out) {
  auto items = CommaList(text);
  if (!items) return Fail(items.error());
  std::vector<uint32_t> codes;
  for (const std::string& item : *items) {
    auto code = Count(item, 400, 599);
    if (!code) return Fail("\"" + item + "\" is not an HTTP error status (400..599)");
    codes.push_back(*code);
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  out.custom_http_errors = std::move(codes);
  return true;
}

// proxy-redirect-from/-to: one Location-text word (nginx's proxy_redirect takes no spaces).
template <std::string A::*Member>
Result<bool> SetRedirectText(std::string_view text, A& out) {
  if (!parse::IsLocationText(text)) {
    return Fail("\"" + std::string(text) + "\" is not URL text (visible ASCII without spaces, quotes, <, >, \\, ^, `, {, |, })");
  }
  out.*Member = std::string(text);
  return true;
}

// proxy-cookie-domain/-path: "off", or the two words of nginx's directive, FROM and TO.
template <std::string A::*From, std::string A::*To>
Result<bool> SetCookieRewrite(std::string_view text, A& out) {
  const std::string_view trimmed = parse::TrimSpace(text);
  if (trimmed == "off") {
    out.*From = out.*To = "";
    return true;
  }
  const std::size_t space = trimmed.find(' ');
  const std::string_view from = trimmed.substr(0, space);
  const std::string_view to = space == std::string_view::npos ? std::string_view() : parse::TrimSpace(trimmed.substr(space));
  if (to.empty() || to.find(' ') != std::string_view::npos) {
    return Fail("\"" + std::string(text) + "\" is not \"off\" or two words, FROM and TO");
  }
  for (std::string_view word : {from, to}) {
    if (!parse::IsCookieAttributeText(word)) {
      return Fail("\"" + std::string(word) +
                  "\" is not cookie attribute text (visible ASCII without ;  , \" \\ $, no leading ~: no regex or "
                  "variables)");
    }
  }
  out.*From = std::string(from);
  out.*To = std::string(to);
  return true;
}

Result<bool> SetAllowedOrigins(std::string_view text, A& out) {
  auto value = Origins(text);
  if (!value) return Fail(value.error());
  if (value->empty()) {
    out.websocket_allowed_origins.reset();  // "*": any Origin
  } else {
    out.websocket_allowed_origins = std::move(*value);
  }
  return true;
}

Result<bool> SetServerAliases(std::string_view text, A& out) {
  auto value = HostNames(text);
  if (!value) return Fail(value.error());
  out.server_aliases = std::move(*value);
  return true;
}

Result<bool> SetLoadBalance(std::string_view text, A& out) {
  if (text == "round_robin") {
    out.load_balance = LoadBalance::kRoundRobin;
  } else if (text == "least_conn") {
    out.load_balance = LoadBalance::kLeastConn;
  } else {
    return Fail("invalid load-balance \"" + std::string(text) + "\": expected round_robin or least_conn");
  }
  return true;
}

Result<bool> SetHashBy(std::string_view text, A& out) {
  auto value = HashKey(text);
  if (!value) return Fail(value.error());
  out.upstream_hash_by = std::move(*value);
  return true;
}

Result<bool> SetAffinity(std::string_view text, A& out) {
  if (text != "cookie") return Fail("invalid affinity \"" + std::string(text) + "\": expected cookie");
  out.affinity_cookie = true;
  return true;
}

Result<bool> SetAffinityCanaryBehavior(std::string_view text, A& out) {
  if (text != "sticky" && text != "legacy") {
    return Fail("invalid affinity-canary-behavior \"" + std::string(text) + "\": expected sticky or legacy");
  }
  out.affinity_canary_legacy = text == "legacy";
  return true;
}

Result<bool> SetAffinityMode(std::string_view text, A& out) {
  if (text == "balanced") {
    out.affinity_mode = AffinityMode::kBalanced;
  } else if (text == "persistent") {
    out.affinity_mode = AffinityMode::kPersistent;
  } else {
    return Fail("invalid affinity-mode \"" + std::string(text) + "\": expected balanced or persistent");
  }
  return true;
}

template <std::optional<RedirectTarget> A::*Member>
Result<bool> SetRedirect(std::string_view text, A& out) {
  auto value = RedirectUrl(text);
  if (!value) return Fail(value.error());
  out.*Member = std::move(*value);
  return true;
}

template <uint32_t A::*Member>
Result<bool> SetRedirectCode(std::string_view text, A& out) {
  auto value = RedirectCode(text);
  if (!value) return Fail(value.error());
  out.*Member = *value;
  return true;
}

Result<bool> SetCookiePath(std::string_view text, A& out) {
  auto value = CookiePath(text);
  if (!value) return Fail(value.error());
  out.session_cookie_path = std::move(*value);
  return true;
}

template <std::optional<std::chrono::seconds> A::*Member>
Result<bool> SetCookieLifetime(std::string_view text, A& out) {
  auto value = parse::Duration(text);
  if (!value) return Fail(value.error());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*value);
  if (seconds.count() == 0) {
    (out.*Member).reset();  // 0: a session cookie
  } else {
    out.*Member = seconds;
  }
  return true;
}

Result<bool> SetBackendProtocol(std::string_view text, A& out) {
  if (text == "HTTP" || text == "http") {
    out.backend_protocol = BackendProtocol::kHttp;
  } else if (text == "HTTPS" || text == "https") {
    out.backend_protocol = BackendProtocol::kHttps;
  } else {
    return Fail("invalid backend-protocol \"" + std::string(text) + "\": expected HTTP or HTTPS");
  }
  return true;
}

// Up to two years: browsers cap max-age themselves, and a larger value is a unit mistake.
Result<bool> SetHstsMaxAge(std::string_view text, A& out) {
  constexpr int64_t kMaxSeconds = int64_t{2} * 366 * 24 * 3600;
  auto value = parse::Duration(text);
  if (!value) return Fail(value.error());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*value);
  if (seconds.count() > kMaxSeconds) return Fail("must be at most " + std::to_string(kMaxSeconds) + "s");
  out.hsts_max_age = seconds;
  return true;
}

Result<bool> SetProxySslSecret(std::string_view text, A& out) {
  auto value = SecretReference(text);
  if (!value) return Fail(value.error());
  out.proxy_ssl_secret = std::move(*value);
  return true;
}

Result<bool> SetAuthTlsSecret(std::string_view text, A& out) {
  auto value = SecretReference(text);
  if (!value) return Fail(value.error());
  out.auth_tls_secret = std::move(*value);
  return true;
}

Result<bool> SetAuthTlsVerifyClient(std::string_view text, A& out) {
  if (text == "on") {
    out.auth_tls_verify_client = ClientVerify::kOn;
  } else if (text == "off") {
    out.auth_tls_verify_client = ClientVerify::kOff;
  } else if (text == "optional") {
    out.auth_tls_verify_client = ClientVerify::kOptional;
  } else if (text == "optional_no_ca") {
    out.auth_tls_verify_client = ClientVerify::kOptionalNoCa;
  } else {
    return Fail("\"" + std::string(text) + "\" is not on, off, optional or optional_no_ca");
  }
  return true;
}

// An http(s) URL or a path, as a Location value.
Result<std::string> ErrorPageUrl(std::string_view text) {
  const bool absolute = text.starts_with("http://") || text.starts_with("https://");
  if ((!absolute && !text.starts_with("/")) || !parse::IsLocationText(text) || text.size() > 2048) {
    return Fail("\"" + std::string(text) + "\" is not an http(s) URL or a path (visible ASCII without spaces)");
  }
  return std::string(text);
}

// nginx's proxy_next_upstream: space-separated conditions, or "off" alone.
Result<bool> SetNextUpstream(std::string_view text, A& out) {
  NextUpstreamWhen when;
  std::size_t words = 0;
  bool off = false;
  for (std::string_view rest = parse::TrimSpace(text); !rest.empty();) {
    const std::size_t space = rest.find_first_of(" \t");
    const std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : parse::TrimSpace(rest.substr(space));
    ++words;
    if (word == "off") {
      off = true;
    } else if (word == "error") {
      when.error = true;
    } else if (word == "timeout") {
      when.timeout = true;
    } else if (word == "invalid_header") {
      when.invalid_header = true;
    } else if (word == "non_idempotent") {
      when.non_idempotent = true;
    } else if (word == "http_403" || word == "http_404" || word == "http_429" || word == "http_500" ||
               word == "http_502" || word == "http_503" || word == "http_504") {
      when.statuses.push_back(static_cast<uint32_t>(std::stoul(std::string(word.substr(5)))));
    } else {
      return Fail("\"" + std::string(word) +
                  "\" is not one of error, timeout, invalid_header, http_500, http_502, http_503, http_504, "
                  "http_403, http_404, http_429, non_idempotent, off");
    }
  }
  if (words == 0) return Fail("empty: expected conditions such as \"error timeout\", or off");
  if (off && words != 1) return Fail("off cannot be combined with other conditions");
  std::sort(when.statuses.begin(), when.statuses.end());
  when.statuses.erase(std::unique(when.statuses.begin(), when.statuses.end()), when.statuses.end());
  out.proxy_next_upstream = std::move(when);
  return true;
}

// proxy-next-upstream-timeout: seconds or a duration; 0 is ingress-nginx's "no limit".
Result<bool> SetNextUpstreamTimeout(std::string_view text, A& out) {
  auto value = parse::Duration(text);
  if (!value) return Fail(value.error());
  if (value->count() < 0) return Fail("must not be negative");
  if (value->count() > kMaxTimeoutMs) return Fail("must be at most " + std::to_string(kMaxTimeoutMs / 1000) + "s");
  out.proxy_next_upstream_timeout = *value;
  return true;
}

Result<bool> SetSatisfy(std::string_view text, A& out) {
  if (text != "any" && text != "all") return Fail("\"" + std::string(text) + "\" is not any or all");
  out.satisfy_any = text == "any";
  return true;
}

Result<bool> SetAuthType(std::string_view text, A& out) {
  if (text != "basic") {
    return Fail("invalid auth-type \"" + std::string(text) + "\": expected basic" +
                (text == "digest" ? " (digest authentication is not implemented)" : ""));
  }
  out.auth_type = AuthType::kBasic;
  return true;
}

Result<bool> SetAuthSecret(std::string_view text, A& out) {
  auto value = SecretReference(text);
  if (!value) return Fail(value.error());
  out.auth_secret = std::move(*value);
  return true;
}

// auth-map (one key per user) would need every Opaque Secret of the cluster in the controller's
// memory, as the Secret watch cannot tell them from application Secrets: not implemented.
Result<bool> SetAuthSecretType(std::string_view text, A& out) {
  if (text == "auth-file") {
    out.auth_secret_type = AuthSecretType::kAuthFile;
    return true;
  }
  return Fail("invalid auth-secret-type \"" + std::string(text) + "\": expected auth-file" +
              (text == "auth-map" ? " (auth-map is not implemented)" : ""));
}

Result<bool> SetAuthResponseHeaders(std::string_view text, A& out) {
  auto value = AuthResponseHeaders(text);
  if (!value) return Fail(value.error());
  out.auth_response_headers = std::move(*value);
  return true;
}

Result<bool> SetProxySslVerify(std::string_view text, A& out) {
  auto value = OnOff(text);
  if (!value) return Fail(value.error());
  out.proxy_ssl_verify = *value;
  return true;
}

Result<bool> SetProxySslServerName(std::string_view text, A& out) {
  auto value = OnOff(text);
  if (!value) return Fail(value.error());
  out.proxy_ssl_server_name = *value;
  return true;
}

Result<bool> SetProxySslCiphers(std::string_view text, A& out) {
  const std::string ciphers(parse::TrimSpace(text));
  if (auto usable = tls::CheckCipherList(ciphers); !usable) return Fail(usable.error());
  out.proxy_ssl_ciphers = ciphers;
  return true;
}

Result<bool> SetSslCiphers(std::string_view text, A& out) {
  const std::string ciphers(parse::TrimSpace(text));
  if (auto usable = tls::CheckCipherList(ciphers); !usable) return Fail(usable.error());
  out.ssl_ciphers = ciphers;
  return true;
}

Result<bool> SetProxySslProtocols(std::string_view text, A& out) {
  auto range = TlsProtocols(text);
  if (!range) return Fail(range.error());
  out.proxy_ssl_min_protocol = range->first;
  out.proxy_ssl_max_protocol = range->second;
  return true;
}

Result<bool> SetBodySize(std::string_view text, A& out) {
  auto value = parse::Size(text);
  if (!value) return Fail(value.error());
  out.proxy_body_size = *value;
  return true;
}

// ingress-nginx's integer kilobytes (its template appends "k"); a size with a unit is read as
// bytes and rounded up to whole KiB.
template <uint64_t A::*Member>
Result<bool> SetKib(std::string_view text, A& out) {
  constexpr uint64_t kMaxKib = 1ull << 30;  // 1 TiB (per second): far beyond any link
  const std::string_view trimmed = parse::TrimSpace(text);
  uint64_t kib = 0;
  if (!trimmed.empty() && std::all_of(trimmed.begin(), trimmed.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    auto value = Count(trimmed, 0, static_cast<uint32_t>(kMaxKib));
    if (!value) return Fail(value.error());
    kib = *value;
  } else {
    auto bytes = parse::Size(trimmed);
    if (!bytes) return Fail("expected kilobytes (\"100\") or a size (\"512k\", \"2m\")");
    kib = (*bytes + 1023) / 1024;
    if (kib > kMaxKib) return Fail("must be at most 1t");
  }
  out.*Member = kib;
  return true;
}

Result<bool> SetBufferSize(std::string_view text, A& out) {
  constexpr uint64_t kMin = 1024;
  constexpr uint64_t kMax = 4 << 20;  // the dataplane's bound: buffers are per connection
  auto value = parse::Size(text);
  if (!value) return Fail(value.error());
  if (*value < kMin || *value > kMax) return Fail("must be from 1k to 4m");
  out.proxy_buffer_size = static_cast<uint32_t>(*value);
  return true;
}

// CORS. A bad cors-* value turns CORS off for the Ingress: without Access-Control-* headers a
// browser refuses cross-origin reads, while keeping the default in the bad value's place
// (any Origin, credentials) could allow more than the author meant.
template <Result<bool> (*Parse)(std::string_view, A&)>
Result<bool> CorsValue(std::string_view text, A& out) {
  auto parsed = Parse(text, out);
  if (parsed) return parsed;
  out.cors_invalid = true;
  return Fail(parsed.error() + "; CORS is off for this Ingress");
}

Result<bool> SetCorsOrigins(std::string_view text, A& out) {
  auto value = Origins(text);
  if (!value) return Fail(value.error());
  out.cors_allow_origins = std::move(*value);  // empty: "*"
  return true;
}

template <std::string A::*Member, bool kAllowStar>
Result<bool> SetTokenList(std::string_view text, A& out) {
  auto value = TokenList(text, kAllowStar);
  if (!value) return Fail(value.error());
  out.*Member = std::move(*value);
  return true;
}

constexpr uint32_t kForbidden = 403;
constexpr uint32_t kUnavailable = 503;

constexpr std::array<std::string_view, 1> kWebsocketServicesAliases = {"nginx.org/websocket-services"};
// ingress-nginx's older names for the same lists.
constexpr std::array<std::string_view, 1> kAllowlistAliases = {"nginx.ingress.kubernetes.io/whitelist-source-range"};
constexpr std::array<std::string_view, 1> kLimitAllowlistAliases = {"nginx.ingress.kubernetes.io/limit-whitelist"};

const AnnotationSpec kRegistry[] = {
    {"websocket", "bool", "true", 0, "Allow WebSocket upgrades on this Ingress; when false upgrades get 403.", {},
     SetBool<&A::websocket>},
    {"websocket-services", "Service name list", "all",
     0, "Only these backend Services accept upgrades (`svc1,svc2`); upgrades to others get 403 with the reason.",
     kWebsocketServicesAliases, SetWebsocketServices},
    {"websocket-idle-timeout", "duration", "3600s", 0,
     "Close a WebSocket tunnel after this long without a byte in either direction.", {}, SetTimeout<&A::websocket_idle_timeout>},
    {"websocket-allowed-origins", "origin list", "any", kForbidden,
     "Only these Origins may open a WebSocket (`https://app.example.com,https://*.example.com`); others get 403.", {},
     SetAllowedOrigins},
    {"proxy-connect-timeout", "duration", "5s", 0, "Time allowed to connect to a backend; seconds (`5`) or a duration.",
     {}, SetTimeout<&A::proxy_connect_timeout>},
    {"proxy-read-timeout", "duration", "60s", 0, "Time allowed between two reads from the backend.", {},
     SetTimeout<&A::proxy_read_timeout>},
    {"proxy-send-timeout", "duration", "60s", 0, "Time allowed between two writes to the backend.", {},
     SetTimeout<&A::proxy_send_timeout>},
    {"proxy-next-upstream", "condition list", "error timeout", 0,
     "When a request goes on to another endpoint, as nginx's `proxy_next_upstream`: any of `error` (connecting, "
     "sending or reading the response head failed), `timeout`, `invalid_header`, `http_500`, `http_502`, "
     "`http_503`, `http_504`, `http_403`, `http_404`, `http_429` and `non_idempotent`, space-separated, or `off`. "
     "A request that reached a backend goes on only without a body, and a POST, PATCH or LOCK only with "
     "`non_idempotent`; one whose connect failed always may. The last try's response reaches the client.",
     {}, SetNextUpstream},
    {"proxy-next-upstream-tries", "count", "3", 0,
     "Tries of a request in all, the first included (`0`: as many as the endpoints; at most 100).", {},
     SetCount<&A::proxy_next_upstream_tries, 0, 100>},
    {"proxy-next-upstream-timeout", "duration", "0", 0,
     "No further try starts this long after the first; seconds (`10`) or a duration, `0` for no limit.", {},
     SetNextUpstreamTimeout},
    {"load-balance", "round_robin, least_conn", "round_robin", 0, "How requests are spread over endpoints.", {},
     SetLoadBalance},
    {"upstream-hash-by", "hash key", "none", 0,
     "Consistent hashing on `$remote_addr`, `$http_NAME`, `$cookie_NAME` or `$arg_NAME`: a key keeps its endpoint as "
     "endpoints come and go.",
     {}, SetHashBy},
    {"affinity", "cookie", "none", 0,
     "Sticky sessions: a cookie naming the endpoint by an opaque hash that every dataplane replica resolves the same "
     "way.",
     {}, SetAffinity},
    {"affinity-mode", "balanced, persistent", "balanced", 0,
     "What a client does when its endpoint is ejected by passive health: balanced moves it for good (new cookie), "
     "persistent keeps its cookie and sends it home once the endpoint recovers. In both modes a client moves only "
     "when its own endpoint fails or leaves the Service.",
     {}, SetAffinityMode},
    {"affinity-canary-behavior", "sticky, legacy", "sticky", 0,
     "With a canary: `sticky` keeps a client whose affinity cookie names an endpoint of the main or the canary "
     "Service on that side; `legacy` draws `canary-weight` for every request, sticky clients too (the cookie then "
     "only picks the endpoint within the side drawn). On the main or the canary Ingress.",
     {}, SetAffinityCanaryBehavior},
    {"session-cookie-change-on-failure", "bool", "as affinity-mode", 0,
     "What a sticky client's cookie does when its endpoint fails a try or is ejected by passive health: `true`, it "
     "is changed to the endpoint that served the client instead (as affinity-mode balanced); `false`, it is kept, and "
     "leads home once the endpoint recovers (as persistent). Wins over affinity-mode, which in Pier decides only this.",
     {}, SetOptionalBool<&A::session_cookie_change_on_failure>},
    {"session-cookie-name", "cookie name", "PIER_AFFINITY", 0, "Name of the affinity cookie.", {},
     SetString<&A::session_cookie_name, CookieName>},
    {"session-cookie-path", "path", "route path", 0, "Path attribute of the affinity cookie.", {}, SetCookiePath},
    {"session-cookie-max-age", "duration", "session", 0, "Max-Age of the affinity cookie; `0` or unset: a session cookie.",
     {}, SetCookieLifetime<&A::session_cookie_max_age>},
    {"session-cookie-expires", "duration", "session", 0,
     "Lifetime of the affinity cookie, as ingress-nginx's `Expires`; sent as `Max-Age` (browsers keep the cookie "
     "as long), and `session-cookie-max-age` wins when both are set.",
     {}, SetCookieLifetime<&A::session_cookie_expires>},
    {"session-cookie-secure", "bool", "false", 0,
     "Secure attribute of the affinity cookie on every response; without it, only when the client used https.", {},
     SetBool<&A::session_cookie_secure>},
    {"session-cookie-samesite", "Strict, Lax, None", "unset", 0, "SameSite attribute of the affinity cookie.", {},
     SetString<&A::session_cookie_samesite, SameSite>},
    {"session-cookie-domain", "host name", "unset", 0, "Domain attribute of the affinity cookie.", {},
     SetString<&A::session_cookie_domain, CookieDomain>},
    {"limit-connections", "integer", "none", kUnavailable,
     "Requests in progress and WebSockets open at once per client IP on each route of this Ingress, per dataplane; "
     "over it: 429. `0`: no limit.", {},
     SetLimit<&A::limit_connections, 1'000'000>},
    {"limit-rps", "integer", "none", kUnavailable, "Requests per second per client IP (token bucket); over it: 429. `0`: no limit.", {},
     SetLimit<&A::limit_rps, 1'000'000>},
    {"limit-rpm", "integer", "none", kUnavailable, "Requests per minute per client IP (token bucket); over it: 429. `0`: no limit.", {},
     SetLimit<&A::limit_rpm, 60'000'000>},
    {"limit-burst-multiplier", "integer", "5", kUnavailable, "Bucket size as a multiple of the rate limit.", {},
     SetCount<&A::limit_burst_multiplier, 1, 1'000>},
    {"limit-allowlist", "CIDR list", "none", kUnavailable, "Client networks exempt from the limits.",
     kLimitAllowlistAliases, SetCidrs<&A::limit_allowlist>},
    {"max-connections", "integer", "none", kUnavailable,
     "Requests in progress and WebSockets open at once on each route of this Ingress (each path counted on its own), "
     "all clients together, per dataplane; over it: 429. `0`: no limit.",
     {}, SetLimit<&A::max_connections, 10'000'000>},
    {"allowlist-source-range", "CIDR list", "none", kForbidden, "Only clients from these networks are served; others get 403.",
     kAllowlistAliases, SetCidrs<&A::allowlist_source_range>},
    {"denylist-source-range", "CIDR list", "none", kForbidden, "Clients from these networks get 403.", {},
     SetCidrs<&A::denylist_source_range>},
    {"auth-type", "basic", "none", kUnavailable,
     "`basic`: every request (WebSocket upgrades too) must carry the user name and password of a user in "
     "`auth-secret`, else 401 with `WWW-Authenticate`. Checked after the source ranges and limits. `digest` is not "
     "implemented (503).",
     {}, SetAuthType},
    {"auth-secret", "Secret (`NAME` or `NAMESPACE/NAME`)", "none", kUnavailable,
     "With `auth-type: basic`: the Secret holding the users, an htpasswd file in its key `auth` (`$apr1$`, bcrypt, "
     "`{SHA}`, `{SSHA}`, SHA-256/512 and yescrypt crypt hashes). A missing Secret, a file without one usable user, "
     "or `auth-type` and `auth-secret` without each other make the routes answer 503; unusable lines are skipped "
     "with a warning.",
     {}, SetAuthSecret},
    {"auth-secret-type", "auth-file", "auth-file", kUnavailable,
     "How `auth-secret` holds its users: `auth-file` (an htpasswd file in key `auth`). `auth-map` is not "
     "implemented (503).",
     {}, SetAuthSecretType},
    {"satisfy", "any, all", "all", 0,
     "How the source ranges and the authentication (`auth-type: basic`, `auth-url`) combine, as nginx's `satisfy`: "
     "`all` requires both; `any` serves a client `allowlist-source-range` lets in (and `denylist-source-range` does "
     "not list) without credentials, and any other client, one in `denylist-source-range` too, when it "
     "authenticates (401 without credentials, not 403). Without an allowlist nobody is let in by the ranges alone. "
     "With both basic authentication and `auth-url`, either lets a client outside the ranges in, as in nginx: good "
     "credentials without asking the auth service, else the auth service's OK; when both refuse, basic "
     "authentication's 401. "
     "Without authentication on the Ingress it changes nothing. An invalid value keeps `all`.",
     {}, SetSatisfy},
    {"auth-tls-secret", "Secret (`NAME` or `NAMESPACE/NAME`)", "none", kForbidden,
     "Client certificates: a Secret of any type whose `ca.crt` (PEM, one or more CAs) verifies them. A property of "
     "the host, as in ingress-nginx: the TLS handshake of a connection naming the host (SNI) asks for a "
     "certificate, and every route of the host, whichever Ingress it comes from, checks it. When several Ingresses "
     "of a host set `auth-tls-*` differently the oldest one's apply (a warning on the others). Over HTTPS a request "
     "without a certificate gets 400 `No required SSL certificate was sent`, one whose certificate fails "
     "verification 400 `The SSL certificate error`; a request whose connection was opened for another host (SNI) "
     "gets 421. Plain HTTP is redirected to HTTPS (`ssl-redirect`) or refused like a request without a certificate. "
     "The backend gets `ssl-client-verify` (`SUCCESS`, `NONE`, `FAILED:reason`), `ssl-client-subject-dn` and "
     "`ssl-client-issuer-dn` (RFC 2253), never the client's own. A `ca.crl` key in the Secret (PEM, one or more CRLs) "
     "turns on revocation checks as nginx's `ssl_crl`: every certificate of the client's chain needs a current CRL "
     "from its issuer that does not list it, else 400 `The SSL certificate error (certificate revoked)` (or `unable "
     "to get certificate CRL`, `CRL has expired`) in every mode. A missing Secret or an unusable `ca.crt` or `ca.crl` makes every route of the host "
     "answer 503.",
     {}, SetAuthTlsSecret},
    {"auth-tls-verify-client", "on, off, optional, optional_no_ca", "on", kForbidden,
     "With `auth-tls-secret`: `on` requires a verified certificate; `optional` lets a request without one through "
     "(`ssl-client-verify: NONE`) but refuses one that fails; `optional_no_ca` also lets through a certificate no CA "
     "of the Secret vouches for (self-signed, unknown issuer: `ssl-client-verify: FAILED:reason`) and refuses the "
     "other failures (expired, revoked), as nginx does; `off` asks for no certificate.",
     {}, SetAuthTlsVerifyClient},
    {"auth-tls-verify-depth", "integer", "1", kForbidden,
     "With `auth-tls-secret`: how many intermediate CAs may stand between the client's certificate and a CA of "
     "`ca.crt`, 0 to 100, as nginx's `ssl_verify_depth` (0: issued by one of them directly; the default 1 allows "
     "one intermediate, which the client sends with its certificate).",
     {}, SetCount<&A::auth_tls_verify_depth, 0, 100>},
    {"auth-tls-error-page", "URL", "none", kForbidden,
     "With `auth-tls-secret`: a refused certificate gets a 302 to this http(s) URL or path instead of the 400.", {},
     SetString<&A::auth_tls_error_page, ErrorPageUrl>},
    {"auth-tls-match-cn", "regex", "none", kForbidden,
     "With `auth-tls-secret`: an RE2 regex (case-sensitive) that must find a match in the certificate's subject in "
     "RFC 2253 form (`CN=alice,OU=Team,O=Example`, as in `ssl-client-subject-dn`), else 403 `client certificate "
     "unauthorized`; a request without a certificate (`optional`) has the empty subject. No spaces or control "
     "characters (as with ingress-nginx, which writes it into nginx.conf unquoted): write a space as `\\x20`, "
     "for example `^CN=alice,O=Pier\\x20Test$`.",
     {}, SetString<&A::auth_tls_match_cn, HeaderPattern>},
    {"auth-tls-pass-certificate-to-upstream", "bool", "false", 0,
     "With `auth-tls-secret`: the backend also gets the client's certificate, URL-escaped PEM, in `ssl-client-cert`.",
     {}, SetBool<&A::auth_tls_pass_certificate_to_upstream>},
    {"auth-realm", "string", "empty", 0,
     "The realm of `WWW-Authenticate: Basic realm=\"...\"` (visible ASCII, no quotes or backslashes).", {},
     SetString<&A::auth_realm, AuthRealm>},
    {"auth-url", "URL", "none", kUnavailable,
     "External authentication, as ingress-nginx (nginx's `auth_request`): before a request (a WebSocket upgrade "
     "too) is proxied, Pier sends the auth service a request without body carrying the client's headers, "
     "`X-Original-URL`, `X-Original-Method`, `X-Real-IP`, `X-Forwarded-For`, `X-Auth-Request-Redirect` and "
     "`X-Sent-From: pier`. A 2xx answer lets the request through, 401 and 403 go to the client, anything else "
     "(or no answer in the route's timeouts) is 500. An http(s) URL; its host may be `$host` (the route's host, so "
     "an Ingress rule without a host cannot use it: 503); the path and query may use `$host`, `$http_host`, "
     "`$scheme`, `$request_uri`, `$escaped_request_uri`.",
     {}, SetString<&A::auth_url, AuthUrl>},
    {"auth-method", "HTTP method", "GET", kUnavailable, "The method of the auth request.", {},
     SetString<&A::auth_method, AuthMethod>},
    {"auth-response-headers", "header name list", "none", kUnavailable,
     "Headers copied from the auth service's 2xx answer onto the request the backend gets (`X-Auth-Request-User, "
     "X-Auth-Request-Email`); a client's own values of them never reach the backend.",
     {}, SetAuthResponseHeaders},
    {"auth-signin", "URL", "none", kUnavailable,
     "With `auth-url`: a 401 from the auth service becomes a 302 to this URL (the variables of `auth-url`, anywhere), "
     "with `rd=` and the request's URL added unless the URL has `rd=` already.",
     {}, SetString<&A::auth_signin, AuthSignin>},
    {"auth-signin-redirect-param", "name", "rd", kUnavailable, "The query parameter `auth-signin` adds.", {},
     SetString<&A::auth_signin_redirect_param, QueryParameterName>},
    {"auth-request-redirect", "string", "$request_uri", kUnavailable,
     "The `X-Auth-Request-Redirect` header sent to the auth service (the variables of `auth-url`).", {},
     SetString<&A::auth_request_redirect, AuthRequestRedirect>},
    {"auth-always-set-cookie", "bool", "false", 0,
     "The auth service's `Set-Cookie` headers go to the client on every response; without it, only with the "
     "backend's 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308 answers.",
     {}, SetBool<&A::auth_always_set_cookie>},
    {"auth-cache-key", "string", "none", 0,
     "With `auth-url`: the auth service's answers are kept in the dataplane under this key and reused for the "
     "requests with the same key, as ingress-nginx's auth cache (nginx's `proxy_cache_key`), so the service is not "
     "asked for each one. The key is made of the variables `$http_NAME` (a request header), `$cookie_NAME`, "
     "`$remote_user`, `$remote_addr`, `$host`, `$request_uri`, `$scheme`, and text; it must use one variable at "
     "least (`$cookie__oauth2_proxy`, `$remote_user$http_authorization`). Kept per route and per dataplane, for "
     "`auth-cache-duration`, or for the service's own `Cache-Control: max-age`; an answer carrying `Set-Cookie` or a "
     "`Cache-Control` of `no-store`, `no-cache`, `private` or `max-age=0` is never kept, as with nginx. Invalid: "
     "nothing is kept.",
     {}, SetString<&A::auth_cache_key, AuthCacheKey>},
    {"auth-cache-duration", "status list and duration", "200 202 401 5m", 0,
     "With `auth-cache-key`: which answers of the auth service are kept and how long, as nginx's "
     "`proxy_cache_valid`: statuses (or `any`) and a time, several such entries comma-separated "
     "(`200 10m, 401 30s`); a time alone keeps 200, 301 and 302. The first entry naming a status (or `any`) "
     "decides. Times from `1s` to `720h`. Invalid: the default.",
     {}, SetString<&A::auth_cache_duration, AuthCacheDuration>},
    {"auth-keepalive", "count", "0", 0,
     "With `auth-url`: checks reuse keep-alive connections to the auth service, at most this many kept idle per "
     "dataplane thread and service address (nginx's `keepalive` in ingress-nginx's auth upstream); `0`: every check "
     "opens a connection and closes it. At most 1,000.",
     {}, SetCount<&A::auth_keepalive, 0, 1'000>},
    {"auth-keepalive-requests", "count", "1000", 0,
     "With `auth-keepalive`: checks one connection carries before Pier closes it (nginx's `keepalive_requests`).",
     {}, SetCount<&A::auth_keepalive_requests, 1, 1'000'000>},
    {"auth-keepalive-timeout", "duration", "60s", 0,
     "With `auth-keepalive`: how long a kept connection may stay idle before Pier closes it "
     "(nginx's `keepalive_timeout`); seconds (`60`) or a duration.",
     {}, SetTimeout<&A::auth_keepalive_timeout>},
    {"ssl-redirect", "bool", "true with TLS", 0, "Redirect plain HTTP to HTTPS (308) when the host has TLS.", {},
     SetOptionalBool<&A::ssl_redirect>},
    {"force-ssl-redirect", "bool", "false", 0, "Redirect plain HTTP to HTTPS (308) even without TLS on this Ingress.", {},
     SetBool<&A::force_ssl_redirect>},
    {"hsts", "bool", "false", 0,
     "Send `Strict-Transport-Security` on HTTPS responses of hosts with TLS (Pier-only: ingress-nginx sets HSTS in "
     "its ConfigMap).",
     {}, SetBool<&A::hsts>},
    {"hsts-max-age", "duration", "31536000", 0,
     "HSTS max-age; seconds (`31536000`) or a duration (`8760h`), at most two years. `0` sends no header.", {},
     SetHstsMaxAge},
    {"hsts-include-subdomains", "bool", "false", 0, "Add `includeSubDomains` to the HSTS header.", {},
     SetBool<&A::hsts_include_subdomains>},
    {"backend-protocol", "HTTP, HTTPS", "HTTP", 0,
     "Protocol spoken to the backend; `HTTPS` is TLS to the backend, configured by the `proxy-ssl-*` annotations.", {},
     SetBackendProtocol},
    {"service-upstream", "bool", "false", 0,
     "Proxy to the Service's cluster IP and port instead of its endpoints (for a service mesh, or to let "
     "kube-proxy balance): Pier then sees one endpoint, so balancing, affinity and passive health have nothing to "
     "choose between. A headless Service answers 503.",
     {}, SetBool<&A::service_upstream>},
    {"enable-access-log", "bool", "true", 0,
     "`false`: the dataplane writes no access log line for this Ingress' requests, WebSockets and "
     "passed-through TLS connections (a health check path, a chatty API); metrics still count them.",
     {}, SetBool<&A::enable_access_log>},
    {"default-backend", "Service name", "none", 0,
     "A Service of this namespace (its first port) that serves this Ingress' paths while their own Service has no "
     "ready endpoint or does not exist, instead of a 503; with no ready endpoint there either, the 503 stays. "
     "Backend TLS and `service-upstream` apply to it as to the path's Service.",
     {}, SetDefaultBackend},
    {"custom-http-errors", "status list", "none", 0,
     "With `default-backend` (or the controller's `--default-backend-service`): a backend response with one of "
     "these statuses (`404,503`, each 400-599) is replaced by what the default backend answers to `GET /` with `X-Code` (the status), `X-Format` (the request's "
     "`Accept`), `X-Original-URI`, `X-Namespace`, `X-Ingress-Name`, `X-Service-Name`, `X-Service-Port` and "
     "`X-Request-ID`, its status included (ingress-nginx's custom error pages); so is Pier's 502 or 504 for a backend "
     "that failed. Not for WebSocket upgrades or Pier's other answers (404, 401, 429...); while the default backend "
     "has no ready endpoint the backend's response stands.",
     {}, SetCustomHttpErrors},
    {"proxy-ssl-secret", "Secret (`NAME` or `NAMESPACE/NAME`)", "none", kUnavailable,
     "With `backend-protocol: HTTPS`: a Secret of any type whose `ca.crt` (PEM) verifies the backend's certificate "
     "and whose `tls.crt` and `tls.key`, when it has them, are the client certificate Pier presents to a backend that "
     "asks for one (nginx's `proxy_ssl_certificate`); a Secret may hold either or both (a certificate alone: the "
     "backend is verified against the system's CAs). A missing Secret, a `ca.crt` that does not parse, or a "
     "`tls.crt` without a matching `tls.key` makes the routes answer 503.",
     {}, SetProxySslSecret},
    {"proxy-ssl-verify", "on, off", "on with proxy-ssl-secret, else off", kUnavailable,
     "With `backend-protocol: HTTPS`: verify the backend's certificate and name (against system roots without "
     "`proxy-ssl-secret`).",
     {}, SetProxySslVerify},
    {"proxy-ssl-name", "host name", "NAME.NAMESPACE.svc", kUnavailable,
     "With `backend-protocol: HTTPS`: the name sent as SNI and verified in the backend's certificate.", {},
     SetString<&A::proxy_ssl_name, ServerName>},
    {"proxy-ssl-server-name", "on, off", "on", kUnavailable,
     "With `backend-protocol: HTTPS`: send the name (`proxy-ssl-name`) as SNI. **Default differs**: Pier sends it "
     "unless this is `off`; ingress-nginx sends none unless it is `on`.",
     {}, SetProxySslServerName},
    {"proxy-ssl-verify-depth", "integer", "1", kUnavailable,
     "With `backend-protocol: HTTPS` and verification on: how many intermediate CAs may stand between the "
     "backend's certificate and a trusted CA, 0 to 100, as nginx's `proxy_ssl_verify_depth`.",
     {}, SetCount<&A::proxy_ssl_verify_depth, 0, 100>},
    {"proxy-ssl-ciphers", "OpenSSL cipher list", "OpenSSL's default", kUnavailable,
     "With `backend-protocol: HTTPS`: the ciphers offered to the backend for TLS 1.2 (`ECDHE+AESGCM:!aNULL`), as "
     "nginx's `proxy_ssl_ciphers`; TLS 1.3's are not affected. A list that selects no cipher is invalid.",
     {}, SetProxySslCiphers},
    {"proxy-ssl-protocols", "TLS versions", "TLSv1.2 TLSv1.3", kUnavailable,
     "With `backend-protocol: HTTPS`: the TLS versions offered to the backend, space-separated (`TLSv1.3`). Pier "
     "never speaks `TLSv1` or `TLSv1.1`: they are accepted (ingress-nginx's default lists them) and skipped; a "
     "list without `TLSv1.2` or `TLSv1.3` is invalid.",
     {}, SetProxySslProtocols},
    {"permanent-redirect", "URL", "none", 0,
     "Answer every request with a redirect here instead of proxying (the backend is not needed): an http(s) URL "
     "or a path; a trailing `$request_uri` appends the request's path and query, other `$` variables are invalid.",
     {}, SetRedirect<&A::permanent_redirect>},
    {"permanent-redirect-code", "integer", "301", 0, "Status of `permanent-redirect`: 300, 301, 302, 303, 307 or 308.",
     {}, SetRedirectCode<&A::permanent_redirect_code>},
    {"temporal-redirect", "URL", "none", 0,
     "As `permanent-redirect`, with 302 (or `temporal-redirect-code`); `permanent-redirect` wins when both are set.",
     {}, SetRedirect<&A::temporal_redirect>},
    {"temporal-redirect-code", "integer", "302", 0, "Status of `temporal-redirect`: 300, 301, 302, 303, 307 or 308.",
     {}, SetRedirectCode<&A::temporal_redirect_code>},
    {"upstream-vhost", "host[:port]", "the request's Host", 0,
     "Host header sent to the backend instead of the client's (which goes on in `X-Forwarded-Host`); "
     "a host name or IP address with an optional port, no variables.",
     {}, SetString<&A::upstream_vhost, UpstreamHost>},
    {"proxy-redirect-from", "URL prefix, off", "off", 0,
     "With `proxy-redirect-to`: a `Location` header of a backend response (or the URL of a `Refresh` header) that "
     "begins with this text (case-sensitive) gets `proxy-redirect-to` in its place, as nginx's `proxy_redirect`. "
     "`off` and `default` turn it off. No variables.",
     {}, SetRedirectText<&A::proxy_redirect_from>},
    {"proxy-redirect-to", "URL prefix", "none", 0, "What replaces `proxy-redirect-from`; no variables.", {},
     SetRedirectText<&A::proxy_redirect_to>},
    {"proxy-cookie-domain", "FROM TO, off", "off", 0,
     "nginx's `proxy_cookie_domain`: a backend `Set-Cookie` whose `Domain` is FROM (case-insensitive, a leading `.` "
     "ignored) gets TO instead. No regex, no variables.",
     {}, SetCookieRewrite<&A::proxy_cookie_domain_from, &A::proxy_cookie_domain_to>},
    {"proxy-cookie-path", "FROM TO, off", "off", 0,
     "nginx's `proxy_cookie_path`: a backend `Set-Cookie` whose `Path` begins with FROM (case-sensitive) has that "
     "part replaced by TO. No regex, no variables.",
     {}, SetCookieRewrite<&A::proxy_cookie_path_from, &A::proxy_cookie_path_to>},
    {"server-alias", "host name list", "none", 0,
     "More host names (`www.example.com, *.example.org`) served with the paths of this Ingress' rules. A name that "
     "is a rule host of any Ingress is ignored, with a `ConflictingAlias` warning.",
     {}, SetServerAliases},
    {"from-to-www-redirect", "bool", "false", 0,
     "Requests for `www.` plus a rule host (or, for a rule host starting with `www.`, the name without it) get a 308 "
     "to the rule host, path and query kept: `https://` when the rule host has TLS (list both names under "
     "`spec.tls` so the certificate covers both), else `http://`. Not when that name is a rule host, alias or "
     "redirect of an Ingress already (`ConflictingRedirect` warning).",
     {}, SetBool<&A::from_to_www_redirect>},
    {"ssl-passthrough", "bool", "false", 0,
     "TLS connections whose ClientHello names one of this Ingress' rule hosts (SNI) are not terminated: their "
     "bytes go unread to the backend of the rule's path `/` (or the Ingress' `defaultBackend`), which does the TLS "
     "handshake itself. Needs the controller flag `--enable-ssl-passthrough`. Of the Ingress' other annotations "
     "only source ranges, `proxy-connect-timeout`, `proxy-next-upstream*` (for failed connects), `load-balance` "
     "and `websocket-idle-timeout` (as the idle timeout) apply to these connections; plain HTTP requests for the "
     "hosts are served as usual. Not when an older Ingress serves the host (`ConflictingPassthrough`).",
     {}, SetBool<&A::ssl_passthrough>},
    {"ssl-ciphers", "OpenSSL cipher list", "Mozilla intermediate", kUnavailable,
     "The ciphers a TLS 1.2 handshake naming one of this Ingress' hosts (SNI) may agree on, as nginx's "
     "`ssl_ciphers` (`ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384`); TLS 1.3's are not affected, and "
     "TLS 1.0 and 1.1 stay refused. A property of the host, with `ssl-prefer-server-ciphers`: the oldest Ingress "
     "setting either decides both (`ConflictingSslCiphers` on the others). A list that selects no cipher is invalid.",
     {}, SetSslCiphers},
    {"ssl-prefer-server-ciphers", "bool", "false", 0,
     "For TLS handshakes naming one of this Ingress' hosts: the server's order of preference (the `ssl-ciphers` list's, "
     "or Pier's own) picks among the ciphers both sides offer, as nginx's `ssl_prefer_server_ciphers`; by default "
     "the client's does. Decided per host with `ssl-ciphers`: the oldest Ingress setting either decides both.",
     {}, SetOptionalBool<&A::ssl_prefer_server_ciphers>},
    {"use-regex", "bool", "false", 0,
     "This Ingress' `Prefix` and `ImplementationSpecific` paths are regular expressions (RE2 syntax), matched "
     "case-insensitively from the start of the request path and ordered with the other paths by length; `Exact` "
     "paths stay exact. A path that is not a valid RE2 regex is skipped with an `InvalidPath` warning.",
     {}, SetBool<&A::use_regex>},
    {"rewrite-target", "path", "none", 0,
     "The path the backend gets instead of the request's, `$1`..`$9` standing for the path regex's groups (`$0`: "
     "what it matched); the query is kept. Implies `use-regex`. No other variables.",
     {}, SetString<&A::rewrite_target, RewriteTarget>},
    {"x-forwarded-prefix", "path", "none", 0,
     "Send `X-Forwarded-Prefix` with this value to the backend (the client's own is replaced).", {},
     SetString<&A::x_forwarded_prefix, ForwardedPrefix>},
    {"app-root", "path", "none", 0, "A request for exactly `/` gets 302 to this path; other paths are proxied.", {},
     SetString<&A::app_root, AppRoot>},
    {"enable-cors", "bool", "false", 0,
     "Answer CORS: an allowed Origin gets `Access-Control-*` headers on every response, and its preflight "
     "(`OPTIONS` with `Origin`) is answered 204 by Pier after access rules and limits. An invalid `cors-*` value "
     "turns CORS off for the Ingress.",
     {}, CorsValue<SetBool<&A::enable_cors>>},
    {"cors-allow-origin", "origin list", "*", 0,
     "Origins allowed (`https://app.example.com, https://*.example.com`), echoed in "
     "`Access-Control-Allow-Origin`; `*`: any, answered with `*`. Listed origins add `Vary: Origin`.",
     {}, CorsValue<SetCorsOrigins>},
    {"cors-allow-methods", "token list", "GET, PUT, POST, DELETE, PATCH, OPTIONS", 0,
     "`Access-Control-Allow-Methods` of a preflight.", {}, CorsValue<SetTokenList<&A::cors_allow_methods, true>>},
    {"cors-allow-headers", "token list",
     "DNT, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Range, "
     "Authorization",
     0, "`Access-Control-Allow-Headers` of a preflight.", {},
     CorsValue<SetTokenList<&A::cors_allow_headers, true>>},
    {"cors-expose-headers", "token list", "none", 0, "`Access-Control-Expose-Headers` of other responses.", {},
     CorsValue<SetTokenList<&A::cors_expose_headers, true>>},
    {"cors-allow-credentials", "bool", "true", 0, "Send `Access-Control-Allow-Credentials: true`.", {},
     CorsValue<SetBool<&A::cors_allow_credentials>>},
    {"cors-max-age", "integer", "1728000", 0, "`Access-Control-Max-Age` of a preflight, in seconds.", {},
     CorsValue<SetCount<&A::cors_max_age_s, 0, 2'147'483'647>>},
    {"canary", "bool", "false", 0,
     "This Ingress is the canary of the Ingress serving the same host and path: requests chosen by the "
     "`canary-by-*` and `canary-weight` rules go to its backend. Only those keys, `load-balance`, "
     "`upstream-hash-by` and the affinity keys of a canary apply; the rest is the main Ingress'.",
     {}, SetBool<&A::canary>},
    {"canary-by-header", "header name", "none", 0,
     "A request with this header set to `always` goes to the canary, `never` to the main backend; other values "
     "fall through to the cookie and the weight.",
     {}, SetString<&A::canary_by_header, HeaderName>},
    {"canary-by-header-value", "string", "none", 0, "With `canary-by-header`: this value (instead of `always`) picks the canary.",
     {}, SetString<&A::canary_by_header_value, HeaderValue>},
    {"canary-by-header-pattern", "regex", "none", 0,
     "With `canary-by-header`: a value this RE2 regex finds a match in picks the canary (case-sensitive).", {},
     SetString<&A::canary_by_header_pattern, HeaderPattern>},
    {"canary-by-cookie", "cookie name", "none", 0,
     "A request with this cookie set to `always` goes to the canary, `never` to the main backend.", {},
     SetString<&A::canary_by_cookie, CookieName>},
    {"canary-weight", "integer", "0", 0,
     "Share of the other requests sent to the canary, out of `canary-weight-total`; drawn per request, except that a client whose affinity cookie names an endpoint of either side stays there (0 and all of it move everyone).", {},
     SetCount<&A::canary_weight, 0, 1'000'000>},
    {"canary-weight-total", "integer", "100", 0, "What `canary-weight` is a share of.", {},
     SetCount<&A::canary_weight_total, 1, 1'000'000>},
    {"proxy-body-size", "size", "1m", 0,
     "Largest request body (`0` = unlimited); over it: 413. Unset: the dataplane's `--default-proxy-body-size` (1m).",
     {}, SetBodySize},
    {"proxy-buffer-size", "size", "16k", 0, "Size of the header and tunnel buffers (1k to 4m).", {}, SetBufferSize},
    {"limit-rate", "kilobytes per second", "0", 0,
     "After `limit-rate-after`, each response's body reaches the client at most this fast, as nginx's `limit_rate` "
     "(an integer is KiB/s, as ingress-nginx; `512k`, `2m` are sizes); `0` for no limit. Per response, not per "
     "client; WebSocket tunnels are not slowed.",
     {}, SetKib<&A::limit_rate_kib>},
    {"limit-rate-after", "kilobytes", "0", 0,
     "How much of a response goes out at full speed before `limit-rate` applies, as nginx's `limit_rate_after` "
     "(an integer is KiB).",
     {}, SetKib<&A::limit_rate_after_kib>},
};

// `buffer` is scratch space shared by every lookup of one Parse: building each candidate key in
// a fresh string cost an allocation per key per Ingress, most of a build's annotation time.
std::string FindValue(const std::map<std::string, std::string>& annotations, const AnnotationSpec& spec,
                      std::string& used_key, bool& found, std::string& buffer) {
  if (annotations.empty()) return std::string();
  auto lookup = [&](std::string_view prefix, std::string_view key) {
    if (found) return;
    buffer.assign(prefix);
    buffer.append(key);
    if (auto it = annotations.find(buffer); it != annotations.end()) {
      found = true;
      used_key = buffer;
    }
  };
  lookup(kPrefix, spec.key);
  lookup(kNginxPrefix, spec.key);
  for (std::string_view alias : spec.extra_aliases) lookup({}, alias);
  return found ? annotations.at(used_key) : std::string();
}

bool IsExtraAlias(std::string_view full_key) {
  for (const AnnotationSpec& spec : kRegistry) {
    for (std::string_view alias : spec.extra_aliases) {
      if (alias == full_key) return true;
    }
  }
  return false;
}

}  // namespace

std::span<const AnnotationSpec> Registry() { return kRegistry; }

const AnnotationSpec* Find(std::string_view key) {
  for (const AnnotationSpec& spec : kRegistry) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

std::string WrittenKey(const std::map<std::string, std::string>& annotations, std::string_view key) {
  std::string pier = std::string(kPrefix) + std::string(key);
  if (annotations.contains(pier)) return pier;
  return std::string(kNginxPrefix) + std::string(key);
}

ParseOutput Parse(const std::map<std::string, std::string>& annotations) {
  ParseOutput out;
  std::string buffer;
  for (const AnnotationSpec& spec : kRegistry) {
    std::string key;
    bool found = false;
    const std::string value = FindValue(annotations, spec, key, found, buffer);
    if (!found) continue;
    auto parsed = spec.parse(parse::TrimSpace(value), out.values);
    if (parsed) continue;
    out.problems.push_back(Problem{key, value, parsed.error(), false, spec.security()});
    if (spec.security() && !out.values.fail_closed) {
      out.values.fail_closed = FailClosed{spec.fail_closed_status, "invalid annotation " + key + ": " + parsed.error()};
    }
  }
  for (auto it = annotations.lower_bound(std::string(kPrefix)); it != annotations.end() && it->first.starts_with(kPrefix);
       ++it) {
    const std::string_view key = std::string_view(it->first).substr(kPrefix.size());
    if (Find(key) == nullptr) {
      out.problems.push_back(Problem{it->first, it->second, "unknown annotation", true, false});
    }
  }
  for (auto it = annotations.lower_bound(std::string(kNginxPrefix));
       it != annotations.end() && it->first.starts_with(kNginxPrefix); ++it) {
    const std::string_view key = std::string_view(it->first).substr(kNginxPrefix.size());
    if (Find(key) != nullptr || IsExtraAlias(it->first)) continue;
    if (IsWhatPierDoes(key, parse::TrimSpace(it->second))) continue;
    Unsupported unsupported = DescribeUnsupported(key);
    const bool closes = unsupported.fail_closed_status != 0;
    if (closes && !out.values.fail_closed) {
      out.values.fail_closed =
          FailClosed{unsupported.fail_closed_status, "unsupported annotation " + it->first + ": " + unsupported.why};
    }
    out.problems.push_back(Problem{it->first, it->second, std::move(unsupported.why), false, closes, true});
  }
  return out;
}

}  // namespace pier::annotations
