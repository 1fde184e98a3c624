// CORS for routes with enable-cors (v1::Cors): which Access-Control-* headers a response gets.
// The Origin decides: an allowed one is echoed (or "*" when any is allowed), one that is not
// gets nothing from Pier, so a browser keeps refusing cross-origin reads; the backend's own
// headers then pass through untouched.
#pragma once

#include <boost/beast/http/fields.hpp>

#include <string>

#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::http {

struct CorsAnswer {
  std::string allow_origin;  // Access-Control-Allow-Origin; "": Pier adds no CORS headers
  bool preflight = false;    // an allowed OPTIONS request with an Origin: Pier answers it (204)
};

// `request`: the client's request, hop-by-hop headers removed or not (Origin is end-to-end).
// Several Origin headers are one unparseable Origin, allowed only when any Origin is.
CorsAnswer DecideCors(const pier::v1::Cors& cors, const boost::beast::http::fields& request, bool options_method);

// Adds the route's CORS headers to a response (the backend's or Pier's own). A preflight gets
// the origin, credentials, allowed methods and headers and the max age; any other response the
// origin, credentials and exposed headers (when the route lists some), replacing the backend's
// (with credentials off, the backend's Access-Control-Allow-Credentials is removed). A route with listed
// origins adds Origin to Vary on every response, allowed or not, so caches keep them apart.
void AddCorsHeaders(const pier::v1::Cors& cors, const CorsAnswer& answer, boost::beast::http::fields& response);

}  // namespace pier::dataplane::http
