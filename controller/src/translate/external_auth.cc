#include "translate/external_auth.h"

#include <chrono>
#include <string_view>

#include "pier/common/auth_cache.h"
#include "pier/common/url_template.h"

namespace pier::translate {
namespace {

// Where the authority of an absolute URL starts and how long it is.
std::pair<std::size_t, std::size_t> Authority(const std::string& url) {
  const std::size_t start = url.find("://") + 3;  // the annotation parser checked the scheme
  const std::size_t end = url.find_first_of("/?", start);
  return {start, (end == std::string::npos ? url.size() : end) - start};
}

bool IsExactHost(const std::string& host) { return !host.empty() && host.find('*') == std::string::npos; }

}  // namespace

ExternalAuthChoice ResolveExternalAuth(const annotations::IngressAnnotations& values, const std::string& host) {
  ExternalAuthChoice out;
  if (values.auth_url.empty()) return out;
  std::string url = values.auth_url;
  const auto [start, length] = Authority(url);
  const std::string_view authority = std::string_view(url).substr(start, length);
  for (std::string_view variable : {"${host}", "$host"}) {
    if (!authority.starts_with(variable)) continue;
    if (!IsExactHost(host)) {
      out.failure = Unresolved{503, "auth-url uses $host as its host, and this route's Ingress rule has no exact host"};
      return out;
    }
    url.replace(start, variable.size(), host);
    break;
  }
  if (auto split = url_template::SplitAbsolute(url); !split) {
    out.failure = Unresolved{503, "auth-url unusable: " + split.error()};
    return out;
  }
  out.settings.set_url(std::move(url));
  out.settings.set_method(values.auth_method);
  for (const std::string& name : values.auth_response_headers) out.settings.add_response_headers(name);
  out.settings.set_signin_url(values.auth_signin);
  out.settings.set_signin_redirect_param(values.auth_signin_redirect_param);
  out.settings.set_request_redirect(values.auth_request_redirect);
  out.settings.set_always_set_cookie(values.auth_always_set_cookie);
  if (values.auth_keepalive > 0) {
    out.settings.set_keepalive_connections(values.auth_keepalive);
    out.settings.set_keepalive_requests(values.auth_keepalive_requests);
    out.settings.set_keepalive_timeout_ms(
        static_cast<uint32_t>(values.auth_keepalive_timeout.value_or(std::chrono::seconds(60)).count()));
  }
  if (!values.auth_cache_key.empty()) {
    // ingress-nginx's default duration when only the key is set.
    auto rules = auth_cache::ParseDurations(values.auth_cache_duration.empty() ? "200 202 401 5m"
                                                                               : values.auth_cache_duration);
    if (rules) {  // checked as the annotation was read
      out.settings.set_cache_key(values.auth_cache_key);
      for (const auth_cache::Rule& rule : *rules) {
        pier::v1::AuthCacheRule& proto = *out.settings.add_cache_rules();
        for (unsigned status : rule.statuses) proto.add_statuses(status);
        proto.set_any(rule.any);
        proto.set_ttl_seconds(static_cast<uint32_t>(rule.ttl.count()));
      }
    }
  }
  return out;
}

}  // namespace pier::translate
