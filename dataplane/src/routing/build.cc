// Config::Build: validation and compilation of one snapshot. Validation runs over everything
// before anything is used, and the first problem found is the error, prefixed with where it is.
#include <boost/asio/ip/address.hpp>
#include <google/protobuf/unknown_field_set.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>

#include "pier/common/address.h"
#include "pier/common/cidr.h"
#include "pier/common/match.h"
#include "pier/common/parse.h"
#include "pier/common/path_regex.h"
#include "pier/common/pem_check.h"
#include "routing/bounds.h"
#include "routing/config.h"
#include "routing/host_name.h"
#include "routing/snapshot_wire.h"

namespace pier::dataplane {
namespace {

using std::chrono::milliseconds;

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

Result<bool> CheckTimeout(uint32_t ms, std::string_view what) {
  if (milliseconds(ms) > bounds::kMaxTimeout) {
    return Fail(std::string(what) + " " + std::to_string(ms) + " ms is longer than the maximum " +
                std::to_string(bounds::kMaxTimeout.count()) + " ms");
  }
  return true;
}

// 0 means "inherit" everywhere a buffer size appears.
Result<bool> CheckBuffer(uint32_t bytes) {
  if (bytes != 0 && (bytes < bounds::kMinBufferBytes || bytes > bounds::kMaxBufferBytes)) {
    return Fail("buffer_bytes " + std::to_string(bytes) + " is outside " + std::to_string(bounds::kMinBufferBytes) +
                ".." + std::to_string(bounds::kMaxBufferBytes));
  }
  return true;
}

Result<bool> CheckDefaults(const v1::Defaults& defaults) {
  for (auto [ms, what] : {std::pair{defaults.connect_timeout_ms(), "connect_timeout_ms"},
                          std::pair{defaults.read_timeout_ms(), "read_timeout_ms"},
                          std::pair{defaults.send_timeout_ms(), "send_timeout_ms"},
                          std::pair{defaults.websocket_idle_timeout_ms(), "websocket_idle_timeout_ms"}}) {
    if (auto ok = CheckTimeout(ms, what); !ok) return ok;
  }
  return CheckBuffer(defaults.buffer_bytes());
}

Result<std::shared_ptr<const ClusterConfig>> CompileCluster(const v1::Cluster& cluster, std::string source) {
  auto compiled = std::make_shared<ClusterConfig>();
  compiled->source = std::move(source);
  compiled->name = cluster.name();
  compiled->service_namespace = cluster.service_namespace();
  compiled->service_name = cluster.service_name();
  compiled->backend_tls = cluster.backend_tls();
  auto upstream_tls = tls::MakeUpstreamTls(cluster.backend_tls(), cluster.service_namespace(), cluster.service_name());
  if (!upstream_tls) return Fail("backend TLS: " + upstream_tls.error());
  compiled->upstream_tls = std::move(*upstream_tls);
  compiled->endpoints.reserve(static_cast<std::size_t>(cluster.endpoints_size()));
  for (const v1::Endpoint& endpoint : cluster.endpoints()) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(endpoint.address(), ec);
    // A zone id ("fe80::1%eth0") names an interface of the controller's view, not ours.
    if (ec || endpoint.address().find('%') != std::string::npos) {
      return Fail("endpoint address " + Quote(endpoint.address()) + " is not an IPv4 or IPv6 address");
    }
    if (endpoint.port() < 1 || endpoint.port() > 65535) {
      return Fail("endpoint " + endpoint.address() + " has port " + std::to_string(endpoint.port()) +
                  ", not 1..65535");
    }
    UpstreamEndpoint& out = compiled->endpoints.emplace_back();
    out.address = boost::asio::ip::tcp::endpoint(address, static_cast<uint16_t>(endpoint.port()));
    out.weight = std::max<uint32_t>(endpoint.weight(), 1);
    out.fallback = endpoint.fallback();
    out.id = parse::FormatEndpoint(out.address);
  }
  return std::shared_ptr<const ClusterConfig>(std::move(compiled));
}

// The chain and key are checked where they are compiled (tls::CertificateSet::Build), which
// skips both for a certificate unchanged since the config in use.
Result<bool> CheckCertificateEntry(const v1::TlsCertificate& certificate) {
  for (const std::string& sni : certificate.sni_names()) {
    if (!IsValidHostPattern(sni)) return Fail("SNI name " + Quote(sni) + " is not a lowercase DNS name or *.name");
  }
  return true;
}

Result<bool> CheckPath(const v1::PathMatch& match) {
  if (!v1::PathMatch::Type_IsValid(match.type())) return Fail("unknown path type " + std::to_string(match.type()));
  const std::string& path = match.path();
  if (path.empty() || path.front() != '/') return Fail("path " + Quote(path) + " does not start with \"/\"");
  // A request target never holds these, so such a route could never match: it is a bug upstream.
  for (unsigned char c : path) {
    if (c <= 0x20 || c == 0x7f) return Fail("path " + Quote(path) + " holds a space or control character");
  }
  if (match.type() == v1::PathMatch::REGEX) {
    if (auto regex = match::PathRegex::Compile(path); !regex) return Fail(regex.error());
  }
  return true;
}

// Cookie attributes end up in a Set-Cookie header: anything that could end the attribute or the
// header line is refused here rather than escaped on every response.
bool IsCookieToken(std::string_view text) {
  static constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={}";
  for (unsigned char c : text) {
    if (c <= 0x20 || c >= 0x7f || kSeparators.find(static_cast<char>(c)) != std::string_view::npos) return false;
  }
  return true;
}

bool IsCookieAttributeValue(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f || c == ';') return false;
  }
  return true;
}

Result<bool> CheckAffinity(const v1::Affinity& affinity) {
  if (!v1::Affinity::Mode_IsValid(affinity.mode())) return Fail("unknown affinity mode");
  if (!IsCookieToken(affinity.cookie_name())) {
    return Fail("affinity cookie name " + Quote(affinity.cookie_name()) + " is not an HTTP token");
  }
  if (!IsCookieAttributeValue(affinity.cookie_path()) || !IsCookieAttributeValue(affinity.cookie_domain())) {
    return Fail("affinity cookie path or domain holds \";\" or a control character");
  }
  const std::string& samesite = affinity.cookie_samesite();
  if (!samesite.empty() && samesite != "Strict" && samesite != "Lax" && samesite != "None") {
    return Fail("affinity cookie SameSite " + Quote(samesite) + " is not Strict, Lax or None");
  }
  return true;
}

// "" or what the controller's upstream-vhost parser lets through: lowercase host name, IPv4 or
// [IPv6] characters and a port. Anything that could end or split the Host field is refused.
bool IsUpstreamHost(std::string_view host) {
  constexpr std::size_t kMaxHostPortBytes = 253 + 8;
  if (host.size() > kMaxHostPortBytes) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

Result<bool> CheckRouteRedirect(const v1::RouteRedirect& redirect) {
  const uint32_t status = redirect.status();
  if (status != 0) {
    if (status < 300 || status > 308 || status == 304 || status == 305 || status == 306) {
      return Fail("route_redirect.status " + std::to_string(status) + " is not 300, 301, 302, 303, 307 or 308");
    }
    if (!parse::IsLocationText(redirect.location())) return Fail("route_redirect.location is not a valid Location");
  } else if (!redirect.location().empty() || redirect.append_request_uri()) {
    return Fail("route_redirect has a location but no status");
  }
  if (!redirect.app_root().empty() && (!redirect.app_root().starts_with("/") || !parse::IsLocationText(redirect.app_root()))) {
    return Fail("route_redirect.app_root is not a path starting with \"/\"");
  }
  return true;
}

// A CORS header value: HTTP tokens (or "*") joined by ", ", as the controller's parser makes
// them. Anything else could end or split the header line.
bool IsTokenListText(std::string_view text) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~, ";
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

Result<bool> CheckCors(const v1::Cors& cors) {
  for (const std::string& origin : cors.allow_origins()) {
    // What websocket-allowed-origins entries are: "scheme://host[:port]", a host may be "*.x".
    if (!origin.starts_with("http://") && !origin.starts_with("https://")) {
      return Fail("cors origin " + Quote(origin) + " is not http(s)://host[:port]");
    }
  }
  for (const std::string* list : {&cors.allow_methods(), &cors.allow_headers(), &cors.expose_headers()}) {
    if (!IsTokenListText(*list)) return Fail("cors header list " + Quote(*list) + " is not a list of HTTP tokens");
  }
  return true;
}

// The canary rules; that `route` names a canary route of the same virtual host is checked where
// the virtual host's routes are linked.
Result<bool> CheckCanary(const v1::Route& route) {
  if (!route.has_canary()) return true;
  const v1::Canary& canary = route.canary();
  if (route.is_canary()) return Fail("a canary route has a canary of its own");
  if (canary.route().empty()) return Fail("canary names no route");
  if (!canary.header().empty() &&
      (!IsCookieToken(canary.header()) ||
       std::any_of(canary.header().begin(), canary.header().end(), [](char c) { return c >= 'A' && c <= 'Z'; }))) {
    return Fail("canary header " + Quote(canary.header()) + " is not a lowercase HTTP token");
  }
  if (!canary.cookie().empty() && !IsCookieToken(canary.cookie())) {
    return Fail("canary cookie " + Quote(canary.cookie()) + " is not an HTTP token");
  }
  if (!canary.header_pattern().empty()) {
    if (auto regex = match::PathRegex::Compile(canary.header_pattern(), false); !regex) {
      return Fail("canary header_pattern: " + regex.error());
    }
  }
  const uint32_t total = canary.weight_total() != 0 ? canary.weight_total() : 100;
  if (canary.weight() > total) {
    return Fail("canary weight " + std::to_string(canary.weight()) + " is more than its total " + std::to_string(total));
  }
  return true;
}

Result<bool> CheckNextUpstream(const v1::NextUpstream& next) {
  static constexpr std::array<uint32_t, 7> kStatuses = {403, 404, 429, 500, 502, 503, 504};
  std::vector<uint32_t> statuses(next.statuses().begin(), next.statuses().end());
  std::sort(statuses.begin(), statuses.end());
  for (uint32_t status : statuses) {
    if (std::find(kStatuses.begin(), kStatuses.end(), status) == kStatuses.end()) {
      return Fail("next_upstream.statuses has " + std::to_string(status) +
                  " (only 403, 404, 429, 500, 502, 503 and 504 are retried)");
    }
  }
  if (std::adjacent_find(statuses.begin(), statuses.end()) != statuses.end()) {
    return Fail("next_upstream.statuses repeat");
  }
  if (next.tries() > bounds::kMaxNextUpstreamTries) {
    return Fail("next_upstream.tries " + std::to_string(next.tries()) + " is over " +
                std::to_string(bounds::kMaxNextUpstreamTries));
  }
  if (milliseconds(next.timeout_ms()) > bounds::kMaxTimeout) {
    return Fail("next_upstream.timeout_ms " + std::to_string(next.timeout_ms()) + " is over " +
                std::to_string(bounds::kMaxTimeout.count()) + " ms");
  }
  return true;
}

Result<bool> CheckRoutePolicy(const v1::Route& route) {
  if (auto ok = CheckPath(route.match()); !ok) return ok;
  const uint32_t status = route.unavailable().status();
  if (status != 0 && (status < bounds::kMinUnavailableStatus || status > bounds::kMaxUnavailableStatus)) {
    return Fail("unavailable.status " + std::to_string(status) + " is not an HTTP error status (400..599)");
  }
  if (auto ok = CheckRouteRedirect(route.route_redirect()); !ok) return ok;
  if (!IsUpstreamHost(route.upstream_host())) return Fail("upstream_host is not a host[:port]");
  if (auto ok = CheckCors(route.cors()); !ok) return ok;
  if (auto ok = CheckCanary(route); !ok) return ok;
  if (route.basic_auth().enabled()) {
    if (auto users = basic_auth::Users::Compile(route.basic_auth()); !users) return Fail(users.error());
  }
  if (route.has_external_auth()) {
    if (auto settings = external_auth::Settings::Compile(route.external_auth()); !settings) {
      return Fail(settings.error());
    }
  }
  if (route.has_proxy_redirect()) {
    const v1::ProxyRedirect& redirect = route.proxy_redirect();
    if (!parse::IsLocationText(redirect.from())) return Fail("proxy_redirect.from is not Location text");
    if (!redirect.to().empty() && !parse::IsLocationText(redirect.to())) {
      return Fail("proxy_redirect.to is not Location text");
    }
  }
  if (route.has_cookie_rewrite()) {
    const v1::CookieRewrite& cookies = route.cookie_rewrite();
    const auto pair_ok = [](const std::string& from, const std::string& to) {
      return from.empty() ? to.empty() : parse::IsCookieAttributeText(from) && parse::IsCookieAttributeText(to);
    };
    if (!pair_ok(cookies.domain_from(), cookies.domain_to())) return Fail("cookie_rewrite domain is not cookie text");
    if (!pair_ok(cookies.path_from(), cookies.path_to())) return Fail("cookie_rewrite path is not cookie text");
  }
  if (route.has_custom_http_errors()) {
    const v1::CustomHttpErrors& errors = route.custom_http_errors();
    if (errors.codes().empty()) return Fail("custom_http_errors has no codes");
    std::vector<uint32_t> codes(errors.codes().begin(), errors.codes().end());
    std::sort(codes.begin(), codes.end());
    if (codes.front() < 400 || codes.back() > 599) return Fail("custom_http_errors.codes must be in 400..599");
    if (std::adjacent_find(codes.begin(), codes.end()) != codes.end()) return Fail("custom_http_errors.codes repeat");
    if (errors.cluster().empty()) return Fail("custom_http_errors names no cluster");
  }
  if (route.has_next_upstream()) {
    if (auto ok = CheckNextUpstream(route.next_upstream()); !ok) return ok;
  }
  if (!route.rewrite_target().empty()) {
    if (auto ok = match::CheckRewriteTarget(route.rewrite_target()); !ok) return ok;
  }
  if (!route.forwarded_prefix().empty() && (!match::CheckRewriteTarget(route.forwarded_prefix()) ||
                                            route.forwarded_prefix().find('$') != std::string::npos)) {
    return Fail("forwarded_prefix " + Quote(route.forwarded_prefix()) + " is not a path");
  }
  if (route.cluster().empty() && status == 0 && route.route_redirect().status() == 0) {
    return Fail("has neither a cluster, an unavailable status nor a redirect");
  }
  for (auto [ms, what] : {std::pair{route.timeouts().connect_ms(), "timeouts.connect_ms"},
                          std::pair{route.timeouts().read_ms(), "timeouts.read_ms"},
                          std::pair{route.timeouts().send_ms(), "timeouts.send_ms"},
                          std::pair{route.websocket().idle_timeout_ms(), "websocket.idle_timeout_ms"}}) {
    if (auto ok = CheckTimeout(ms, what); !ok) return ok;
  }
  if (auto ok = CheckBuffer(route.buffer_bytes()); !ok) return ok;
  if (!v1::LoadBalancing::Policy_IsValid(route.load_balancing().policy())) return Fail("unknown load-balancing policy");
  const v1::HashKey& hash = route.load_balancing().hash_by();
  if (!v1::HashKey::Source_IsValid(hash.source())) return Fail("unknown hash key source");
  if ((hash.source() == v1::HashKey::HEADER || hash.source() == v1::HashKey::COOKIE ||
       hash.source() == v1::HashKey::QUERY_ARG) &&
      hash.name().empty()) {
    return Fail("hash key needs a name");
  }
  if (auto ok = CheckAffinity(route.affinity()); !ok) return ok;
  const double rate = route.limits().requests_per_second();
  if (!std::isfinite(rate) || rate < 0) return Fail("limits.requests_per_second must be a finite number >= 0");
  return true;
}

Result<CidrSet> CompileCidrs(const google::protobuf::RepeatedPtrField<std::string>& texts, std::string_view what) {
  std::vector<Cidr> cidrs;
  cidrs.reserve(static_cast<std::size_t>(texts.size()));
  for (const std::string& text : texts) {
    auto cidr = Cidr::Parse(text);
    if (!cidr) return Fail(std::string(what) + ": " + cidr.error());
    cidrs.push_back(std::move(*cidr));
  }
  return CidrSet(std::move(cidrs));
}

milliseconds Inherit(uint32_t route_ms, uint32_t defaults_ms, milliseconds built_in) {
  if (route_ms != 0) return milliseconds(route_ms);
  if (defaults_ms != 0) return milliseconds(defaults_ms);
  return built_in;
}

std::shared_ptr<const ClusterConfig> FindCluster(const std::vector<std::shared_ptr<const ClusterConfig>>& sorted,
                                                 std::string_view name) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), name,
                             [](const auto& cluster, std::string_view n) { return cluster->name < n; });
  return it != sorted.end() && (*it)->name == name ? *it : nullptr;
}

// Whether the routes compiled for `vhost` in the previous config still point at the clusters this
// config has under their names; a cluster compiled anew means the routes must be too. `current`
// holds this config's cluster objects: a route's cluster being one of them is the same as
// finding it by name (names are unique here, and a route was compiled with the cluster of its
// name), without a string search per route.
bool RoutesStillResolve(const VirtualHostConfig& vhost, const std::vector<std::shared_ptr<const ClusterConfig>>& clusters,
                        const std::unordered_set<const ClusterConfig*>& current) {
  for (const auto& route : vhost.routes) {
    const std::string& name = route->proto.cluster();
    if (name.empty()) continue;
    if (route->unavailable_status == 0) {
      if (!current.contains(route->cluster.get())) return false;
    } else if (FindCluster(clusters, name) == nullptr) {
      return false;  // compiling reports the missing cluster
    }
    if (route->proto.has_custom_http_errors() &&
        (!route->error_route || !current.contains(route->error_route->cluster.get()))) {
      return false;
    }
  }
  return true;
}

RouteConfig CompileRoute(const v1::Route& route, const v1::Defaults& defaults, const BuildOptions& options,
                         std::shared_ptr<const ClusterConfig> cluster) {
  RouteConfig out;
  out.name = route.name();
  out.ingress_namespace = route.ingress().namespace_();
  out.ingress_name = route.ingress().name();
  out.service = route.service();
  out.match_type = route.match().type();
  out.path = out.match_type == v1::PathMatch::PREFIX ? std::string(match::NormalizePrefix(route.match().path()))
                                                     : route.match().path();
  if (out.match_type == v1::PathMatch::REGEX) out.regex = *match::PathRegex::Compile(out.path);  // checked above
  if (!route.canary().header_pattern().empty()) {
    out.canary_header_pattern = *match::PathRegex::Compile(route.canary().header_pattern(), false);  // checked
  }
  out.is_canary = route.is_canary();
  if (route.basic_auth().enabled()) out.basic_auth = *basic_auth::Users::Compile(route.basic_auth());  // checked above
  if (route.has_external_auth()) out.external_auth = *external_auth::Settings::Compile(route.external_auth());  // checked
  out.unavailable_status = route.unavailable().status();
  if (out.unavailable_status != 0) {
    out.unavailable_reason = route.unavailable().reason();
  } else {
    out.cluster = std::move(cluster);
  }
  out.connect_timeout = Inherit(route.timeouts().connect_ms(), defaults.connect_timeout_ms(), options.connect_timeout);
  out.read_timeout = Inherit(route.timeouts().read_ms(), defaults.read_timeout_ms(), options.read_timeout);
  out.send_timeout = Inherit(route.timeouts().send_ms(), defaults.send_timeout_ms(), options.send_timeout);
  out.websocket_idle_timeout = Inherit(route.websocket().idle_timeout_ms(), defaults.websocket_idle_timeout_ms(),
                                       options.websocket_idle_timeout);
  out.websocket_enabled = route.websocket().enabled();
  out.websocket_disabled_reason = route.websocket().disabled_reason();
  if (route.body_unlimited()) {
    out.max_body_bytes = 0;
  } else if (route.max_body_bytes() != 0) {
    out.max_body_bytes = route.max_body_bytes();
  } else {
    out.max_body_bytes = defaults.max_body_bytes() != 0 ? defaults.max_body_bytes() : options.max_body_bytes;
  }
  out.buffer_bytes = route.buffer_bytes() != 0     ? route.buffer_bytes()
                     : defaults.buffer_bytes() != 0 ? defaults.buffer_bytes()
                                                    : options.buffer_bytes;
  if (route.has_next_upstream()) {
    const v1::NextUpstream& next = route.next_upstream();
    out.next_upstream.error = next.error();
    out.next_upstream.timeout = next.timeout();
    out.next_upstream.invalid_header = next.invalid_header();
    out.next_upstream.non_idempotent = next.non_idempotent();
    out.next_upstream.statuses.assign(next.statuses().begin(), next.statuses().end());
    std::sort(out.next_upstream.statuses.begin(), out.next_upstream.statuses.end());
    out.next_upstream.tries = next.tries();
    out.next_upstream.time_limit = std::chrono::milliseconds(next.timeout_ms());
  }
  out.proto = route;
  return out;
}

// custom-http-errors: `route` as it asks the error pages' cluster. The request has passed the
// route's checks by then, so only what the upstream half reads is kept: no affinity cookie or
// hash pins a client to the error pages, and no canary, rewrite or authentication applies.
std::shared_ptr<const RouteConfig> CompileErrorRoute(const v1::Route& route, const v1::Defaults& defaults,
                                                     const BuildOptions& options,
                                                     std::shared_ptr<const ClusterConfig> cluster) {
  v1::Route error = route;
  error.set_cluster(route.custom_http_errors().cluster());
  error.clear_custom_http_errors();
  error.clear_affinity();
  error.mutable_load_balancing()->clear_hash_by();
  error.clear_canary();
  error.clear_is_canary();
  error.clear_rewrite_target();
  error.clear_basic_auth();
  error.clear_external_auth();
  error.clear_unavailable();
  error.clear_route_redirect();
  return std::make_shared<RouteConfig>(CompileRoute(error, defaults, options, std::move(cluster)));
}

// A route from a newer controller carries a policy this dataplane cannot apply: it answers 503
// rather than serve without it, and sends nothing to a canary whose rules it may not know either.
// The session ID context of handshakes under a host's own cipher list: SHA-256 over the list
// and the client-certificate policy's identity, so neither is bypassed by resuming a session
// made under another host's.
Result<std::array<unsigned char, 32>> CipherSessionContext(const std::string& ciphers,
                                                          const tls::ClientAuthPolicy* client_auth) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const std::string_view tag = "pier ssl-ciphers\n";
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), tag.data(), tag.size()) != 1 ||
      EVP_DigestUpdate(context.get(), ciphers.data(), ciphers.size()) != 1 ||
      (client_auth != nullptr &&
       EVP_DigestUpdate(context.get(), client_auth->identity().data(), client_auth->identity().size()) != 1) ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1 || length != digest.size()) {
    return Fail("ciphers: cannot hash the list (OpenSSL)");
  }
  return digest;
}

void FailClosedOnUnknownField(RouteConfig& route, std::string unknown_field) {
  route.unknown_field = std::move(unknown_field);
  route.unavailable_status = 503;
  route.unavailable_reason = "this route needs a newer Pier dataplane";
  route.cluster = nullptr;
  route.proto.clear_canary();
  route.error_codes.clear();
  route.error_route = nullptr;
}

std::string NeedsNewerDataplane(const std::string& unknown_field) {
  return "has " + unknown_field + ", which this dataplane does not know (the controller is newer: upgrade the dataplane)";
}

// Points each route with a canary at its canary route: a route of the same virtual host, marked
// is_canary, with that name, and the canary of no other route.
Result<bool> LinkCanaries(const std::vector<std::shared_ptr<RouteConfig>>& routes) {
  std::unordered_set<const RouteConfig*> taken;
  for (const auto& route : routes) {
    if (!route->proto.has_canary()) continue;
    const std::string& name = route->proto.canary().route();
    auto it = std::find_if(routes.begin(), routes.end(),
                           [&](const auto& candidate) { return candidate->is_canary && candidate->name == name; });
    if (it == routes.end()) {
      return Fail("route " + Quote(route->name) + ": canary route " + Quote(name) + " is not a canary route here");
    }
    if (!taken.insert(it->get()).second) return Fail("canary route " + Quote(name) + " serves two routes");
    route->canary = *it;
  }
  return true;
}

// ssl-passthrough: the host's route whose endpoints get its TLS connections. Only a named host
// can be picked out of a ClientHello, and a canary is reached through its main route only.
Result<std::shared_ptr<const RouteConfig>> FindPassthroughRoute(const std::string& host,
                                                               const v1::TlsPassthrough& passthrough,
                                                               const std::vector<std::shared_ptr<RouteConfig>>& routes) {
  const auto& unknown = passthrough.GetReflection()->GetUnknownFields(passthrough);
  if (!unknown.empty()) {
    return Fail(NeedsNewerDataplane("field " + std::to_string(unknown.field(0).number()) + " of pier.v1.TlsPassthrough"));
  }
  if (host.empty()) return Fail("TLS passthrough needs a host name (a ClientHello cannot name \"\")");
  auto it = std::find_if(routes.begin(), routes.end(),
                         [&](const auto& route) { return route->name == passthrough.route(); });
  if (it == routes.end()) return Fail("TLS passthrough route " + Quote(passthrough.route()) + " is not a route here");
  if ((*it)->is_canary) return Fail("TLS passthrough route " + Quote(passthrough.route()) + " is a canary route");
  return std::shared_ptr<const RouteConfig>(*it);
}

}  // namespace

Result<std::shared_ptr<const Config>> Config::Build(const v1::Snapshot& snapshot, const BuildOptions& options,
                                                    const Config* previous) {
  // One path for both entry points: the bytes are what a dataplane receives anyway.
  const std::string bytes = snapshot.SerializeAsString();
  auto parts = SplitSnapshot(bytes);
  if (!parts) return Fail(parts.error());
  return Build(*parts, options, previous);
}

Result<std::shared_ptr<const Config>> Config::Build(const SnapshotParts& parts, const BuildOptions& options,
                                                    const Config* previous) {
  const v1::Snapshot& snapshot = parts.rest;
  // Config's constructor is private, so make_shared cannot reach it.
  std::shared_ptr<Config> config(new Config());
  config->version_ = snapshot.version();
  config->controller_instance_ = snapshot.controller_instance();
  config->options_ = options;
  config->defaults_source_ = snapshot.defaults().SerializeAsString();

  if (auto ok = CheckDefaults(snapshot.defaults()); !ok) return Fail("defaults: " + ok.error());
  // Outside routes nothing can fail closed on its own (a cluster serves many routes, a
  // certificate many hosts): a field this dataplane does not know there refuses the snapshot.
  if (auto unknown = FindUnknownField(snapshot)) return Fail("the snapshot " + NeedsNewerDataplane(*unknown));

  // Equal bytes compile to equal objects: compiling reads nothing but the message itself (and,
  // for routes, the defaults, the options and the clusters, checked below). The name read from
  // the bytes only picks the candidate; the bytes being equal is what allows taking it over.
  config->clusters_.reserve(parts.clusters.size());
  for (std::size_t i = 0; i < parts.clusters.size(); ++i) {
    const std::string_view bytes = parts.clusters[i];
    if (previous != nullptr) {
      const auto name = StringField(bytes, v1::Cluster::kNameFieldNumber);
      auto old = name && !name->empty() ? FindCluster(previous->clusters_, *name) : nullptr;
      if (old != nullptr && old->source == bytes) {
        config->clusters_.push_back(std::move(old));
        continue;
      }
    }
    v1::Cluster cluster;
    if (!cluster.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Fail("cluster #" + std::to_string(i) + " is not a valid pier.v1.Cluster message");
    }
    if (cluster.name().empty()) return Fail("a cluster has an empty name");
    if (auto unknown = FindUnknownField(cluster)) {
      return Fail("cluster " + Quote(cluster.name()) + " " + NeedsNewerDataplane(*unknown));
    }
    auto compiled = CompileCluster(cluster, std::string(bytes));
    if (!compiled) return Fail("cluster " + Quote(cluster.name()) + ": " + compiled.error());
    config->clusters_.push_back(std::move(*compiled));
  }
  std::sort(config->clusters_.begin(), config->clusters_.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  auto duplicate = std::adjacent_find(config->clusters_.begin(), config->clusters_.end(),
                                      [](const auto& a, const auto& b) { return a->name == b->name; });
  if (duplicate != config->clusters_.end()) return Fail("cluster " + Quote((*duplicate)->name) + " appears twice");

  std::set<std::string_view> certificates;
  for (const v1::TlsCertificate& certificate : snapshot.certificates()) {
    if (certificate.name().empty()) return Fail("a certificate has an empty name");
    if (!certificates.insert(certificate.name()).second) {
      return Fail("certificate " + Quote(certificate.name()) + " appears twice");
    }
    if (auto ok = CheckCertificateEntry(certificate); !ok) {
      return Fail("certificate " + Quote(certificate.name()) + ": " + ok.error());
    }
  }

  auto compiled_certificates =
      tls::CertificateSet::Build(snapshot, previous != nullptr ? previous->certificates_.get() : nullptr);
  if (!compiled_certificates) return Fail(compiled_certificates.error());
  config->certificates_ = std::move(*compiled_certificates);

  const bool routes_reusable = previous != nullptr && previous->options_ == options &&
                               previous->defaults_source_ == config->defaults_source_;
  std::unordered_set<const ClusterConfig*> current_clusters;
  if (routes_reusable) {
    current_clusters.reserve(config->clusters_.size());
    for (const auto& cluster : config->clusters_) current_clusters.insert(cluster.get());
  }
  std::unordered_set<std::string> hosts;
  hosts.reserve(parts.virtual_hosts.size());
  v1::VirtualHost vhost;
  for (std::size_t i = 0; i < parts.virtual_hosts.size(); ++i) {
    const std::string_view bytes = parts.virtual_hosts[i];
    // An unchanged virtual host whose routes still point at this config's clusters is taken
    // over whole: its host, certificate name and routes are what parsing `bytes` would give.
    const VirtualHostConfig* old = nullptr;
    if (routes_reusable) {
      const auto name = StringField(bytes, v1::VirtualHost::kHostFieldNumber);
      old = name ? previous->FindCompiledHost(*name) : nullptr;
      if (old != nullptr && (old->source != bytes || !RoutesStillResolve(*old, config->clusters_, current_clusters))) {
        old = nullptr;
      }
    }
    if (old == nullptr) {
      vhost.Clear();
      if (!vhost.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return Fail("virtual host #" + std::to_string(i) + " is not a valid pier.v1.VirtualHost message");
      }
    }
    const std::string& host = old != nullptr ? old->host : vhost.host();
    const std::string& tls_certificate = old != nullptr ? old->tls_certificate : vhost.tls_certificate();
    const std::string where = "virtual host " + Quote(host);
    if (!host.empty() && !IsValidHostPattern(host)) {
      return Fail(where + ": not a lowercase DNS name, *.name or \"\"");
    }
    if (!hosts.insert(host).second) return Fail(where + " appears twice");
    if (old == nullptr) {
      // The host's own fields; its routes are looked at one by one below.
      const auto& unknown = vhost.GetReflection()->GetUnknownFields(vhost);
      if (!unknown.empty()) {
        return Fail(where + " " + NeedsNewerDataplane("field " + std::to_string(unknown.field(0).number()) +
                                                      " of pier.v1.VirtualHost"));
      }
      // A client-auth setting this dataplane does not know could loosen what it checks: refuse.
      const auto& unknown_auth = vhost.client_auth().GetReflection()->GetUnknownFields(vhost.client_auth());
      if (!unknown_auth.empty()) {
        return Fail(where + " " + NeedsNewerDataplane("field " + std::to_string(unknown_auth.field(0).number()) +
                                                      " of pier.v1.ClientAuth"));
      }
    }
    if (!tls_certificate.empty() && !certificates.contains(tls_certificate)) {
      return Fail(where + ": TLS certificate " + Quote(tls_certificate) + " does not exist");
    }
    VirtualHostConfig compiled{host, {}, tls_certificate, std::string(bytes), nullptr, nullptr, {}, {}, false};
    if (old != nullptr) {
      compiled.routes = old->routes;
      compiled.client_auth = old->client_auth;
      compiled.passthrough = old->passthrough;
      compiled.ciphers = old->ciphers;
      compiled.session_context = old->session_context;
      compiled.prefer_server_ciphers = old->prefer_server_ciphers;
    } else {
      if (vhost.has_client_auth()) {
        auto policy = tls::ClientAuthPolicy::Build(vhost.client_auth());
        if (!policy) return Fail(where + ": " + policy.error());
        compiled.client_auth = std::move(*policy);
      }
      if (!vhost.ciphers().empty()) {
        if (auto usable = pier::tls::CheckCipherList(vhost.ciphers()); !usable) {
          return Fail(where + ": ciphers: " + usable.error());
        }
        auto context = CipherSessionContext(vhost.ciphers(), compiled.client_auth.get());
        if (!context) return Fail(where + ": " + context.error());
        compiled.ciphers = vhost.ciphers();
        compiled.session_context = *context;
      }
      compiled.prefer_server_ciphers = vhost.prefer_server_ciphers();
      std::vector<std::shared_ptr<RouteConfig>> routes;
      routes.reserve(static_cast<std::size_t>(vhost.routes_size()));
      for (const v1::Route& route : vhost.routes()) {
        const std::string route_where = where + " route " + Quote(route.name());
        if (auto ok = CheckRoutePolicy(route); !ok) return Fail(route_where + ": " + ok.error());
        auto allow = CompileCidrs(route.access().allow_cidrs(), "access.allow_cidrs");
        auto deny = CompileCidrs(route.access().deny_cidrs(), "access.deny_cidrs");
        auto exempt = CompileCidrs(route.limits().exempt_cidrs(), "limits.exempt_cidrs");
        for (const auto* cidrs : {&allow, &deny, &exempt}) {
          if (!*cidrs) return Fail(route_where + ": " + cidrs->error());
        }
        std::shared_ptr<const ClusterConfig> cluster;
        if (!route.cluster().empty()) {
          cluster = FindCluster(config->clusters_, route.cluster());
          if (!cluster) return Fail(route_where + ": cluster " + Quote(route.cluster()) + " does not exist");
        }
        RouteConfig compiled_route = CompileRoute(route, snapshot.defaults(), options, std::move(cluster));
        if (route.has_custom_http_errors()) {
          auto error_cluster = FindCluster(config->clusters_, route.custom_http_errors().cluster());
          if (!error_cluster) {
            return Fail(route_where + ": custom_http_errors cluster " + Quote(route.custom_http_errors().cluster()) +
                        " does not exist");
          }
          compiled_route.error_codes.assign(route.custom_http_errors().codes().begin(),
                                            route.custom_http_errors().codes().end());
          std::sort(compiled_route.error_codes.begin(), compiled_route.error_codes.end());
          compiled_route.error_route = CompileErrorRoute(route, snapshot.defaults(), options, std::move(error_cluster));
        }
        compiled_route.allow_sources = std::move(*allow);
        compiled_route.deny_sources = std::move(*deny);
        compiled_route.limit_exempt_sources = std::move(*exempt);
        if (auto unknown = FindUnknownField(route)) FailClosedOnUnknownField(compiled_route, std::move(*unknown));
        compiled_route.client_auth = compiled.client_auth;
        if (!compiled.ciphers.empty()) compiled_route.cipher_context = compiled.session_context;
        routes.push_back(std::make_shared<RouteConfig>(std::move(compiled_route)));
      }
      if (auto ok = LinkCanaries(routes); !ok) return Fail(where + ": " + ok.error());
      if (vhost.has_passthrough()) {
        auto passthrough = FindPassthroughRoute(host, vhost.passthrough(), routes);
        if (!passthrough) return Fail(where + ": " + passthrough.error());
        compiled.passthrough = std::move(*passthrough);
        for (auto& route : routes) route->passthrough_host = true;
      }
      compiled.routes.assign(routes.begin(), routes.end());
    }
    if (compiled.passthrough) config->has_passthrough_ = true;
    if (compiled.host.empty()) {
      config->catch_all_ = std::move(compiled);
    } else if (match::IsWildcardHost(compiled.host)) {
      config->wildcard_hosts_.push_back(std::move(compiled));
    } else {
      config->exact_hosts_.push_back(std::move(compiled));
    }
  }
  auto by_host = [](const VirtualHostConfig& a, const VirtualHostConfig& b) { return a.host < b.host; };
  std::sort(config->exact_hosts_.begin(), config->exact_hosts_.end(), by_host);
  std::sort(config->wildcard_hosts_.begin(), config->wildcard_hosts_.end(), by_host);

  return std::shared_ptr<const Config>(std::move(config));
}

}  // namespace pier::dataplane
