// What the backend answers to plain HTTP requests. Pure: a request in, a response out, so the
// session code only moves bytes.
#pragma once

#include <boost/beast/http.hpp>

#include <string>
#include <string_view>

#include "static_files.h"

namespace pier::chat {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

enum class WebSocketEndpoint { kNone, kEcho, kChat };

// Which WebSocket endpoint an upgrade request opens; kNone means it is answered over HTTP
// (e.g. /ws/reject-426 refuses the upgrade on purpose).
WebSocketEndpoint WebSocketEndpointFor(std::string_view target);

struct RouteContext {
  std::string_view backend_name;
  const StaticFiles& files;
  std::string_view peer_address;  // "ip:port" of the TCP peer
};

// Every response names the backend instance in X-Backend, so tests see where they landed.
Response HandleHttp(const Request& request, const RouteContext& context);

// The path part of a request target (before '?').
std::string_view PathOf(std::string_view target);

}  // namespace pier::chat
