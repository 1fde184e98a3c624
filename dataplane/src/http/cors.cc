#include "http/cors.h"

#include <boost/beast/core/string.hpp>

#include "http/forwarded.h"
#include "limits/origin.h"

namespace pier::dataplane::http {

namespace bhttp = boost::beast::http;

namespace {

bool HasOriginToken(std::string_view vary) {
  // Vary is a list of header names (or "*", which already covers Origin).
  std::size_t start = 0;
  while (start <= vary.size()) {
    const auto comma = vary.find(',', start);
    std::string_view item = vary.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*" || boost::beast::iequals(item, "origin")) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

void AddVaryOrigin(bhttp::fields& response) {
  for (auto it = response.find(bhttp::field::vary); it != response.end() && it->name() == bhttp::field::vary; ++it) {
    if (HasOriginToken(it->value())) return;
  }
  response.insert(bhttp::field::vary, "Origin");
}

}  // namespace

CorsAnswer DecideCors(const pier::v1::Cors& cors, const bhttp::fields& request, bool options_method) {
  CorsAnswer answer;
  if (!cors.enabled()) return answer;
  const bool has_origin = request.find(bhttp::field::origin) != request.end();
  if (cors.allow_origins().empty()) {
    // As ingress-nginx: "*" on every response, Origin or not, so a cached copy serves any site.
    answer.allow_origin = "*";
  } else {
    if (!has_origin) return answer;
    std::string origin = JoinedField(request, "Origin");
    const auto parsed = limits::ParseOrigin(origin);
    if (!parsed) return answer;
    bool allowed = false;
    for (const std::string& entry : cors.allow_origins()) allowed = allowed || limits::OriginMatches(*parsed, entry);
    if (!allowed) return answer;
    // Echoed as the browser sent it: it compares the value with its own serialisation.
    answer.allow_origin = std::move(origin);
  }
  answer.preflight = options_method && has_origin;
  return answer;
}

void AddCorsHeaders(const pier::v1::Cors& cors, const CorsAnswer& answer, bhttp::fields& response) {
  if (!cors.enabled()) return;
  if (!cors.allow_origins().empty()) AddVaryOrigin(response);
  if (answer.allow_origin.empty()) return;
  response.set(bhttp::field::access_control_allow_origin, answer.allow_origin);
  if (cors.allow_credentials()) {
    response.set(bhttp::field::access_control_allow_credentials, "true");
  } else {
    response.erase(bhttp::field::access_control_allow_credentials);
  }
  if (answer.preflight) {
    response.set(bhttp::field::access_control_allow_methods, cors.allow_methods());
    response.set(bhttp::field::access_control_allow_headers, cors.allow_headers());
    response.set(bhttp::field::access_control_max_age, std::to_string(cors.max_age_s()));
    return;
  }
  if (!cors.expose_headers().empty()) response.set(bhttp::field::access_control_expose_headers, cors.expose_headers());
}

}  // namespace pier::dataplane::http
