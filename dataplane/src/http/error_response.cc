#include "http/error_response.h"

#include <string>

namespace pier::dataplane::http {

namespace bhttp = boost::beast::http;

ErrorResponse MakeErrorResponse(unsigned status, std::string_view reason, bool keep_alive, bool head_request) {
  ErrorResponse response{static_cast<bhttp::status>(status), 11};
  response.set(bhttp::field::server, "pier");
  response.set(bhttp::field::connection, keep_alive ? "keep-alive" : "close");
  // These have no body, and a 204 no Content-Length (RFC 9110 8.6).
  if (status == 204 || status == 304) return response;
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  std::string body;
  body.reserve(reason.size() + 1);
  for (char c : reason) body += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  body += '\n';
  response.content_length(body.size());
  if (!head_request) response.body() = std::move(body);
  return response;
}

}  // namespace pier::dataplane::http
