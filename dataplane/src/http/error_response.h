// Responses the proxy writes itself: a status and one line of text saying why, so a user
// reading curl output knows whether the proxy or the application answered.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string_view>

namespace pier::dataplane::http {

using ErrorResponse = boost::beast::http::response<boost::beast::http::string_body>;

// HTTP/1.1, Content-Type text/plain, body = reason + "\n" (control characters replaced by
// spaces, so upstream- or client-supplied text cannot split the line), Connection keep-alive
// or close. A response to HEAD keeps the Content-Length but carries no body; a 204 or 304 has
// neither body nor Content-Length nor Content-Type (the reason is only logged).
ErrorResponse MakeErrorResponse(unsigned status, std::string_view reason, bool keep_alive, bool head_request = false);

}  // namespace pier::dataplane::http
