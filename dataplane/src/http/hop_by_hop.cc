#include "http/hop_by_hop.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/container/small_vector.hpp>

#include <string_view>

namespace pier::dataplane::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

bool HasToken(std::string_view value, std::string_view token) {
  for (auto item : bhttp::token_list{value}) {
    if (beast::iequals(item, token)) return true;
  }
  return false;
}

namespace {

// The fields every message loses (RFC 9110 7.6.1, plus the non-standard Keep-Alive and
// Proxy-Connection).
bool IsHopByHop(bhttp::field name) noexcept {
  switch (name) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
      return true;
    default:
      return false;
  }
}

}  // namespace

void RemoveHopByHop(bhttp::fields& fields) {
  // Names listed in Connection are collected first: erasing while iterating the same field's
  // values would invalidate them. Several Connection lines are one list (RFC 9110 5.3). Names
  // the walk below removes anyway (the "Upgrade" of every WebSocket handshake, "keep-alive")
  // are skipped, "Connection" with them, so the collected names keep pointing into fields that
  // stay until that walk, and a handshake collects nothing. Host is end-to-end by definition; a
  // client naming it would otherwise make the proxy send upstream a request without one.
  boost::container::small_vector<std::string_view, 4> named;
  for (const auto& field : fields) {
    if (field.name() != bhttp::field::connection) continue;
    for (auto item : bhttp::token_list{field.value()}) {
      const std::string_view name(item.data(), item.size());
      const bhttp::field known = bhttp::string_to_field(name);
      if (IsHopByHop(known) || known == bhttp::field::host) continue;
      named.push_back(name);
    }
  }
  for (const auto name : named) fields.erase(name);

  // One walk over the fields (usually none of these is there) instead of a lookup per name.
  for (auto it = fields.begin(); it != fields.end();) {
    if (IsHopByHop(it->name())) {
      it = fields.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace pier::dataplane::http
