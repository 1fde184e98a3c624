#include "http/hop_by_hop.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <string>
#include <vector>

namespace pier::dataplane::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

bool HasToken(std::string_view value, std::string_view token) {
  for (auto item : bhttp::token_list{value}) {
    if (beast::iequals(item, token)) return true;
  }
  return false;
}

void RemoveHopByHop(bhttp::fields& fields) {
  // Names listed in Connection are collected first: erasing while iterating the same field's
  // values would invalidate them. Several Connection lines are one list (RFC 9110 5.3).
  std::vector<std::string> named;
  for (const auto& field : fields) {
    if (field.name() != bhttp::field::connection) continue;
    for (auto item : bhttp::token_list{field.value()}) named.emplace_back(item);
  }
  for (const auto& name : named) {
    // Host is end-to-end by definition; a client naming it in Connection would otherwise make
    // the proxy send upstream a request without one.
    if (beast::iequals(name, "host")) continue;
    fields.erase(name);
  }

  // One walk over the fields (usually none of these is there) instead of a lookup per name.
  for (auto it = fields.begin(); it != fields.end();) {
    switch (it->name()) {
      case bhttp::field::connection:
      case bhttp::field::keep_alive:
      case bhttp::field::proxy_connection:
      case bhttp::field::te:
      case bhttp::field::trailer:
      case bhttp::field::transfer_encoding:
      case bhttp::field::upgrade:
        it = fields.erase(it);
        break;
      default:
        ++it;
    }
  }
}

}  // namespace pier::dataplane::http
