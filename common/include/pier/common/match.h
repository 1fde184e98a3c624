// Host and path matching as Kubernetes Ingress (networking.k8s.io/v1) defines it. The controller
// orders routes with these rules and the dataplane matches requests with them, so the semantics
// live here once. Everything is allocation-free except NormalizeHost.
#pragma once

#include <string>
#include <string_view>

namespace pier::match {

// A Prefix pattern without its trailing "/" ("/foo/" -> "/foo"); "/" stays "/". Kubernetes
// ignores a trailing slash in Prefix paths, so this is the form Prefix patterns compare in.
std::string_view NormalizePrefix(std::string_view pattern) noexcept;

// Exact: the request path equals the pattern, byte for byte.
// Prefix: the request path, split on "/", starts with the pattern's elements: "/foo" matches
// "/foo", "/foo/" and "/foo/bar" but not "/foobar". A trailing "/" on the pattern is ignored.
bool PathMatches(bool exact, std::string_view pattern, std::string_view request_path) noexcept;

// pattern: "" (every host), "*.example.com" (exactly one more, non-empty label) or an exact
// name; lowercase. host: already normalised by NormalizeHost.
bool HostMatches(std::string_view pattern, std::string_view host) noexcept;

// A lowercase DNS name: dot-separated labels of [a-z0-9-], 1..63 characters each, no label
// starting or ending with "-", at most 253 characters.
bool IsValidDnsName(std::string_view name) noexcept;

// Whether the pattern is a one-label wildcard ("*.example.com").
bool IsWildcardHost(std::string_view pattern) noexcept;

// A Host header value as the matchers expect it: the port removed ("a.example:8080",
// "[::1]:8080" -> "[::1]"), ASCII lowercased, one trailing "." removed (an absolute DNS name
// is the same host).
std::string NormalizeHost(std::string_view host);

// One route's match rule, for ordering routes inside a virtual host.
struct PathRule {
  bool exact = false;
  std::string_view path;
  bool regex = false;  // use-regex: `path` is a regex (path_regex.h), measured as written
};

// Route precedence: the longer path first (Prefix paths measured without a trailing "/"),
// Exact before Prefix before a regex at equal length (ingress-nginx orders its regex locations by
// length the same way, and the first that matches wins), then by path bytes so the order is total. Negative when
// `a` is tried first, 0 when both rules are the same rule (the caller breaks that tie, e.g.
// by the owning Ingress' age).
int ComparePrecedence(PathRule a, PathRule b) noexcept;

}  // namespace pier::match
