// The request target as the proxy routes and forwards it (RFC 9112 3.2). An absolute-form
// target ("http://a.example/p?q") names the host itself: its authority wins over the Host
// header (3.2.2), and the upstream gets the origin form with that authority as Host, so the
// proxy and the application can never disagree on which host was asked for.
#pragma once

#include <string>
#include <string_view>

namespace pier::dataplane::http {

struct RequestTarget {
  std::string authority;  // absolute-form only: replaces Host; "" for every other form
  std::string origin;     // path and query to send upstream ("/" when the absolute form had none)
  std::string path;       // origin without the query: what routes match
};

// `target` has passed ValidateHead (origin-form, absolute-form with http/https, or "*").
RequestTarget SplitRequestTarget(std::string_view target);

}  // namespace pier::dataplane::http
