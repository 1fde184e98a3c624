#include "upstream/request_keys.h"

#include "upstream/affinity_cookie.h"

namespace pier::dataplane::upstream {
namespace bhttp = boost::beast::http;
namespace {

std::optional<std::string> CookieValue(const bhttp::fields& fields, std::string_view name) {
  // HTTP/1.1 clients send one Cookie line, but nothing stops a client from sending several.
  auto [begin, end] = fields.equal_range(bhttp::field::cookie);
  for (auto it = begin; it != end; ++it) {
    if (auto value = FindCookie(it->value(), name)) return std::string(*value);
  }
  return std::nullopt;
}

std::optional<std::string> HeaderValue(const bhttp::fields& fields, std::string_view name) {
  auto [begin, end] = fields.equal_range(name);
  if (begin == end) return std::nullopt;
  std::string joined;
  for (auto it = begin; it != end; ++it) {
    if (!joined.empty()) joined.push_back(',');
    joined.append(it->value());
  }
  return joined;
}

std::optional<std::string> HashKey(const pier::v1::HashKey& key, const bhttp::fields& fields, std::string_view target,
                                   std::string_view client) {
  switch (key.source()) {
    case pier::v1::HashKey::REMOTE_ADDR:
      return std::string(client);
    case pier::v1::HashKey::HEADER:
      return HeaderValue(fields, key.name());
    case pier::v1::HashKey::COOKIE:
      return CookieValue(fields, key.name());
    case pier::v1::HashKey::QUERY_ARG:
      if (auto value = FindQueryArg(target, key.name())) return std::string(*value);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<std::string_view> FindQueryArg(std::string_view target, std::string_view name) noexcept {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const std::size_t end = query.find('&');
    std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    const std::size_t equals = pair.find('=');
    if (pair.substr(0, equals) != name) continue;
    return equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
  }
  return std::nullopt;
}

RequestKeys ReadRequestKeys(const pier::v1::Route& route, const bhttp::fields& fields, std::string_view target,
                            std::string_view client) {
  RequestKeys keys;
  keys.hash_key = HashKey(route.load_balancing().hash_by(), fields, target, client);
  keys.affinity_token = ReadAffinityToken(route, fields);
  return keys;
}

std::optional<std::string> ReadAffinityToken(const pier::v1::Route& route, const bhttp::fields& fields) {
  if (route.affinity().mode() == pier::v1::Affinity::NONE) return std::nullopt;
  return CookieValue(fields, route.affinity().cookie_name());
}

}  // namespace pier::dataplane::upstream
