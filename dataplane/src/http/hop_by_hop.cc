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
  auto [first, last] = fields.equal_range(bhttp::field::connection);
  for (auto it = first; it != last; ++it) {
    for (auto item : bhttp::token_list{it->value()}) named.emplace_back(item);
  }
  for (const auto& name : named) {
    // Host is end-to-end by definition; a client naming it in Connection would otherwise make
    // the proxy send upstream a request without one.
    if (beast::iequals(name, "host")) continue;
    fields.erase(name);
  }

  static constexpr bhttp::field kAlwaysHopByHop[] = {
      bhttp::field::connection, bhttp::field::keep_alive, bhttp::field::proxy_connection,
      bhttp::field::te,         bhttp::field::trailer,    bhttp::field::transfer_encoding,
      bhttp::field::upgrade,
  };
  for (auto field : kAlwaysHopByHop) fields.erase(field);
}

}  // namespace pier::dataplane::http
