// Typed parsers for annotation values beyond the common ones (pier/common/parse.h, cidr.h).
// Each validates everything the dataplane will later put on the wire (cookie attributes,
// header names), so no annotation can inject text into a response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "annotations/ingress_annotations.h"
#include "pier/common/result.h"

namespace pier::annotations {

// Splits on commas, trims spaces; an empty list or empty item is an error.
Result<std::vector<std::string>> CommaList(std::string_view text);

// Service names (DNS-1035 labels), deduplicated and sorted.
Result<std::vector<std::string>> ServiceNames(std::string_view text);

// "https://app.example.com", "https://*.example.com:8443", lowercased, deduplicated and sorted.
// Scheme http or https; the host may start with "*." (one label); no path. "*" alone: any
// Origin (returned as an empty list).
Result<std::vector<std::string>> Origins(std::string_view text);

// A CORS list of HTTP tokens (methods, header names), "*" too when allow_star; joined with ", "
// as it is sent in Access-Control-Allow-Methods, -Allow-Headers or -Expose-Headers.
Result<std::string> TokenList(std::string_view text, bool allow_star);

// A decimal integer in [min, max].
Result<uint32_t> Count(std::string_view text, uint32_t min, uint32_t max);

// $remote_addr (or $binary_remote_addr), $http_NAME, $cookie_NAME, $arg_NAME.
Result<HashBy> HashKey(std::string_view text);

// RFC 6265 cookie-name (an HTTP token).
Result<std::string> CookieName(std::string_view text);
// A cookie Path attribute: starts with "/", printable ASCII without ";".
Result<std::string> CookiePath(std::string_view text);
// A cookie Domain attribute: a host name, optionally with a leading ".".
Result<std::string> CookieDomain(std::string_view text);
// Strict, Lax or None, any case; returned capitalised.
Result<std::string> SameSite(std::string_view text);

// permanent-redirect / temporal-redirect: an absolute http or https URL, or a path starting
// with "/"; at most 2048 bytes of visible ASCII without quotes, backslashes, angle brackets,
// braces, "|", "^" or "`". ingress-nginx pastes the value into its configuration, where nginx
// variables expand; Pier takes it as data: a trailing "$request_uri" (the most common use) sets
// append_request_uri, and any other "$" is refused.
Result<RedirectTarget> RedirectUrl(std::string_view text);
// app-root: a path starting with "/", same characters as RedirectUrl, no "$".
Result<std::string> AppRoot(std::string_view text);
// permanent-redirect-code / temporal-redirect-code: 300, 301, 302, 303, 307 or 308.
Result<uint32_t> RedirectCode(std::string_view text);

// "NAME" or "NAMESPACE/NAME", each a DNS-1123 subdomain as Kubernetes object names are.
Result<SecretRef> SecretReference(std::string_view text);
// A host name to send as SNI and verify a backend's certificate against (no wildcard, no port).
Result<std::string> ServerName(std::string_view text);
// proxy-ssl-protocols: space-separated TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (nginx's names). Pier
// speaks 1.2 and 1.3 only, so the older two are skipped; the range of what is left, as TLS
// record versions (0x0303 for 1.2, 0x0304 for 1.3). Without 1.2 or 1.3 it is invalid.
Result<std::pair<uint32_t, uint32_t>> TlsProtocols(std::string_view text);
// upstream-vhost: the Host sent to the backend: a host name, an IPv4 address or a bracketed IPv6
// address, with an optional :port (1..65535); lowercased. No nginx variables.
Result<std::string> UpstreamHost(std::string_view text);
// rewrite-target: a path starting with "/" where "$" only comes before a group number 0-9.
Result<std::string> RewriteTarget(std::string_view text);
// x-forwarded-prefix: a path starting with "/", no "$", "?" or "#".
Result<std::string> ForwardedPrefix(std::string_view text);
// canary-by-header: an HTTP field name, lowercased.
Result<std::string> HeaderName(std::string_view text);
// canary-by-header-value: 1 to 256 bytes of visible ASCII or spaces inside.
Result<std::string> HeaderValue(std::string_view text);
// canary-by-header-pattern: an RE2 regex (case-sensitive).
Result<std::string> HeaderPattern(std::string_view text);
// server-alias: host names or "*.name" wildcards, lowercased, deduplicated and sorted.
Result<std::vector<std::string>> HostNames(std::string_view text);
// auth-realm: at most 256 bytes of visible ASCII or spaces, without '"' or '\' (it is sent
// inside a quoted string in WWW-Authenticate); may be empty.
Result<std::string> AuthRealm(std::string_view text);
// ingress-nginx's "on"/"off", and true/false; any case.
Result<bool> OnOff(std::string_view text);
// auth-url: an absolute http(s) URL whose host is literal or exactly $host, with only the
// variables of pier/common/url_template.h in its path and query.
Result<std::string> AuthUrl(std::string_view text);
// auth-signin: an absolute http(s) URL with those variables anywhere.
Result<std::string> AuthSignin(std::string_view text);
// auth-request-redirect: a template of those variables (a URL or a path).
Result<std::string> AuthRequestRedirect(std::string_view text);
// auth-signin-redirect-param: a query parameter name, [A-Za-z0-9_-], case kept.
Result<std::string> QueryParameterName(std::string_view text);
// auth-method: an uppercase HTTP method token.
Result<std::string> AuthMethod(std::string_view text);
// auth-cache-key and auth-cache-duration, checked with pier/common/auth_cache.h.
Result<std::string> AuthCacheKey(std::string_view text);
Result<std::string> AuthCacheDuration(std::string_view text);
// auth-response-headers: a comma list of header names, lowercased; at most 32, none that frames
// the request (Host, Content-Length, Connection...).
Result<std::vector<std::string>> AuthResponseHeaders(std::string_view text);

}  // namespace pier::annotations
