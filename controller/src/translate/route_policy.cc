#include "translate/route_policy.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace pier::translate {
namespace {

using annotations::IngressAnnotations;
using annotations::NextUpstreamWhen;
using std::chrono::milliseconds;

// ingress-nginx's proxy-next-upstream-tries default.
constexpr uint32_t kDefaultNextUpstreamTries = 3;

// Annotation parsers bound every duration to a week, so the count fits.
uint32_t Ms(const std::optional<std::chrono::milliseconds>& value) {
  return value ? static_cast<uint32_t>(value->count()) : 0;
}

void ApplyWebSocket(const IngressAnnotations& values, pier::v1::Route& route) {
  pier::v1::WebSocketPolicy& websocket = *route.mutable_websocket();
  if (!values.websocket) {
    websocket.set_enabled(false);
    websocket.set_disabled_reason("websocket upgrades are disabled on ingress " + route.ingress().namespace_() + "/" +
                                  route.ingress().name());
  } else if (values.websocket_services &&
             !std::binary_search(values.websocket_services->begin(), values.websocket_services->end(), route.service())) {
    websocket.set_enabled(false);
    websocket.set_disabled_reason("service " + route.service() + " is not in websocket-services");
  } else {
    websocket.set_enabled(true);
  }
  websocket.set_idle_timeout_ms(Ms(values.websocket_idle_timeout));
  if (values.websocket_allowed_origins) {
    websocket.set_origins_restricted(true);
    for (const std::string& origin : *values.websocket_allowed_origins) websocket.add_allowed_origins(origin);
  }
}

void ApplyBalancing(const IngressAnnotations& values, pier::v1::Route& route) {
  pier::v1::LoadBalancing& balancing = *route.mutable_load_balancing();
  balancing.set_policy(values.load_balance == annotations::LoadBalance::kLeastConn ? pier::v1::LoadBalancing::LEAST_CONN
                                                                                    : pier::v1::LoadBalancing::ROUND_ROBIN);
  if (values.upstream_hash_by) {
    pier::v1::HashKey& key = *balancing.mutable_hash_by();
    switch (values.upstream_hash_by->source) {
      case annotations::HashBy::Source::kRemoteAddr: key.set_source(pier::v1::HashKey::REMOTE_ADDR); break;
      case annotations::HashBy::Source::kHeader: key.set_source(pier::v1::HashKey::HEADER); break;
      case annotations::HashBy::Source::kCookie: key.set_source(pier::v1::HashKey::COOKIE); break;
      case annotations::HashBy::Source::kQueryArg: key.set_source(pier::v1::HashKey::QUERY_ARG); break;
    }
    key.set_name(values.upstream_hash_by->name);
  }

  if (!values.affinity_cookie) return;
  pier::v1::Affinity& affinity = *route.mutable_affinity();
  // The two modes differ only in what a failure does to the cookie, which is what
  // session-cookie-change-on-failure says when it is set.
  const bool change_on_failure =
      values.session_cookie_change_on_failure.value_or(values.affinity_mode != annotations::AffinityMode::kPersistent);
  affinity.set_mode(change_on_failure ? pier::v1::Affinity::COOKIE_BALANCED : pier::v1::Affinity::COOKIE_PERSISTENT);
  affinity.set_cookie_name(values.session_cookie_name);
  // The route path is a fine default, unless it holds a ";" that would end the cookie
  // attribute (the dataplane refuses such a snapshot) or is a regex; "/" then covers the route.
  const std::string& route_path = route.match().path();
  const bool usable = route_path.find(';') == std::string::npos && route.match().type() != pier::v1::PathMatch::REGEX;
  affinity.set_cookie_path(values.session_cookie_path.value_or(usable ? route_path : std::string("/")));
  const auto lifetime = values.session_cookie_max_age ? values.session_cookie_max_age : values.session_cookie_expires;
  affinity.set_cookie_max_age_s(lifetime ? static_cast<uint64_t>(lifetime->count()) : 0);
  affinity.set_cookie_secure(values.session_cookie_secure);
  affinity.set_cookie_samesite(values.session_cookie_samesite);
  affinity.set_cookie_domain(values.session_cookie_domain);
}

void ApplyRedirects(const IngressAnnotations& values, pier::v1::Route& route) {
  if (!values.app_root.empty()) route.mutable_route_redirect()->set_app_root(values.app_root);
  const bool permanent = values.permanent_redirect.has_value();
  const auto& target = permanent ? values.permanent_redirect : values.temporal_redirect;
  if (!target) return;
  pier::v1::RouteRedirect& redirect = *route.mutable_route_redirect();
  redirect.set_status(permanent ? values.permanent_redirect_code : values.temporal_redirect_code);
  redirect.set_location(target->location);
  redirect.set_append_request_uri(target->append_request_uri);
  // Nothing is proxied, so a missing Service or backend certificate does not matter (an
  // Ingress that only redirects often names a placeholder backend). A security annotation
  // that failed still closes the route (below).
  if (!values.fail_closed) route.clear_unavailable();
}

void ApplyCors(const IngressAnnotations& values, pier::v1::Route& route) {
  if (!values.enable_cors || values.cors_invalid) return;
  pier::v1::Cors& cors = *route.mutable_cors();
  cors.set_enabled(true);
  for (const std::string& origin : values.cors_allow_origins) cors.add_allow_origins(origin);
  cors.set_allow_methods(values.cors_allow_methods);
  cors.set_allow_headers(values.cors_allow_headers);
  cors.set_expose_headers(values.cors_expose_headers);
  cors.set_allow_credentials(values.cors_allow_credentials);
  cors.set_max_age_s(values.cors_max_age_s);
}

void ApplyLimits(const IngressAnnotations& values, pier::v1::Route& route) {
  pier::v1::Limits& limits = *route.mutable_limits();
  limits.set_connections_per_client(values.limit_connections.value_or(0));
  limits.set_connections_per_route(values.max_connections.value_or(0));
  // rps and rpm fold into one token rate; with both set the per-second one is the finer
  // control, as a burst of a minute's quota in one second is what rps exists to prevent.
  // The product is taken in 64 bits: limit-rpm 60,000,000 x multiplier 1,000 does not fit 32.
  const auto burst = [](uint64_t tokens) {
    return static_cast<uint32_t>(std::clamp<uint64_t>(tokens, 1, std::numeric_limits<uint32_t>::max()));
  };
  if (values.limit_rps) {
    limits.set_requests_per_second(*values.limit_rps);
    limits.set_burst(burst(uint64_t{*values.limit_rps} * values.limit_burst_multiplier));
  } else if (values.limit_rpm) {
    // The bucket holds multiplier seconds' worth of the rate (ingress-nginx would allow
    // multiplier minutes' worth at once, which defeats a per-minute limit).
    limits.set_requests_per_second(*values.limit_rpm / 60.0);
    limits.set_burst(burst(uint64_t{*values.limit_rpm} * values.limit_burst_multiplier / 60));
  }
  for (const Cidr& cidr : values.limit_allowlist) limits.add_exempt_cidrs(cidr.ToString());

  pier::v1::AccessControl& access = *route.mutable_access();
  for (const Cidr& cidr : values.allowlist_source_range) access.add_allow_cidrs(cidr.ToString());
  for (const Cidr& cidr : values.denylist_source_range) access.add_deny_cidrs(cidr.ToString());
}

// Only an Ingress that sets one of the keys gets the field: without it the dataplane applies
// ingress-nginx's defaults, and snapshots stay readable by dataplanes that predate it.
void ApplyNextUpstream(const IngressAnnotations& values, pier::v1::Route& route) {
  if (!values.proxy_next_upstream && !values.proxy_next_upstream_tries && !values.proxy_next_upstream_timeout) return;
  const NextUpstreamWhen when = values.proxy_next_upstream.value_or(NextUpstreamWhen{.error = true, .timeout = true, .statuses = {}});
  pier::v1::NextUpstream& next = *route.mutable_next_upstream();
  next.set_error(when.error);
  next.set_timeout(when.timeout);
  next.set_invalid_header(when.invalid_header);
  next.set_non_idempotent(when.non_idempotent);
  for (uint32_t status : when.statuses) next.add_statuses(status);
  next.set_tries(values.proxy_next_upstream_tries.value_or(kDefaultNextUpstreamTries));
  next.set_timeout_ms(static_cast<uint64_t>(values.proxy_next_upstream_timeout.value_or(milliseconds{0}).count()));
}

}  // namespace

void ApplyPolicy(const IngressAnnotations& values, bool host_has_tls, pier::v1::Route& route) {
  pier::v1::Timeouts& timeouts = *route.mutable_timeouts();
  timeouts.set_connect_ms(Ms(values.proxy_connect_timeout));
  timeouts.set_read_ms(Ms(values.proxy_read_timeout));
  timeouts.set_send_ms(Ms(values.proxy_send_timeout));

  ApplyWebSocket(values, route);
  ApplyBalancing(values, route);
  ApplyLimits(values, route);

  pier::v1::TlsRedirect& redirect = *route.mutable_redirect();
  redirect.set_ssl_redirect(host_has_tls && values.ssl_redirect.value_or(true));
  redirect.set_force_ssl_redirect(values.force_ssl_redirect);
  // HSTS on a host without TLS would be sent over plain HTTP, where browsers ignore it.
  if (host_has_tls && values.hsts) {
    redirect.set_hsts_max_age_s(static_cast<uint64_t>(values.hsts_max_age.count()));
    redirect.set_hsts_include_subdomains(values.hsts_include_subdomains);
  }

  if (values.proxy_body_size) {
    if (*values.proxy_body_size == 0) {
      route.set_body_unlimited(true);
    } else {
      route.set_max_body_bytes(*values.proxy_body_size);
    }
  }
  route.set_buffer_bytes(values.proxy_buffer_size.value_or(0));
  route.set_limit_rate_bytes_per_s(values.limit_rate_kib * 1024);
  route.set_limit_rate_after_bytes(values.limit_rate_after_kib * 1024);

  ApplyRedirects(values, route);
  route.set_upstream_host(values.upstream_vhost);
  route.set_access_log_off(!values.enable_access_log);
  route.set_satisfy_any(values.satisfy_any);
  ApplyNextUpstream(values, route);
  if (!values.proxy_cookie_domain_from.empty() || !values.proxy_cookie_path_from.empty()) {
    pier::v1::CookieRewrite& cookies = *route.mutable_cookie_rewrite();
    cookies.set_domain_from(values.proxy_cookie_domain_from);
    cookies.set_domain_to(values.proxy_cookie_domain_to);
    cookies.set_path_from(values.proxy_cookie_path_from);
    cookies.set_path_to(values.proxy_cookie_path_to);
  }
  if (!values.proxy_redirect_from.empty() && values.proxy_redirect_from != "off" &&
      values.proxy_redirect_from != "default" && !values.proxy_redirect_to.empty()) {
    route.mutable_proxy_redirect()->set_from(values.proxy_redirect_from);
    route.mutable_proxy_redirect()->set_to(values.proxy_redirect_to);
  }
  route.set_rewrite_target(values.rewrite_target);
  route.set_forwarded_prefix(values.x_forwarded_prefix);
  ApplyCors(values, route);

  if (values.fail_closed && !route.has_unavailable()) {
    route.mutable_unavailable()->set_status(values.fail_closed->status);
    route.mutable_unavailable()->set_reason(values.fail_closed->reason);
  }
}

void ApplyCanaryBalancing(const IngressAnnotations& canary, pier::v1::Route& canary_route) {
  canary_route.clear_load_balancing();
  canary_route.clear_affinity();
  ApplyBalancing(canary, canary_route);
}

void ApplyCanaryRules(const IngressAnnotations& canary, const IngressAnnotations& main, const std::string& canary_route_name,
                      pier::v1::Route& main_route) {
  pier::v1::Canary& rules = *main_route.mutable_canary();
  rules.set_route(canary_route_name);
  rules.set_header(canary.canary_by_header);
  rules.set_header_value(canary.canary_by_header_value);
  rules.set_header_pattern(canary.canary_by_header_pattern);
  rules.set_cookie(canary.canary_by_cookie);
  // A weight over the total sends everything (ingress-nginx's reading as well).
  rules.set_weight(std::min(canary.canary_weight, canary.canary_weight_total));
  rules.set_weight_total(canary.canary_weight_total);
  rules.set_ignore_affinity(canary.affinity_canary_legacy || main.affinity_canary_legacy);
}

}  // namespace pier::translate
