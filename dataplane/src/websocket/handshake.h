// The parts of the WebSocket opening handshake (RFC 6455 section 4) a proxy must check: is this
// request an upgrade, and did the upstream really accept it.
#pragma once

#include <boost/beast/http/message.hpp>

#include <string>
#include <string_view>

namespace pier::dataplane::websocket {

// GET over HTTP/1.1 with an Upgrade list holding "websocket" and a Connection list holding
// "upgrade" (both case-insensitive). Other Upgrade protocols (h2c) are not tunnelled.
bool IsUpgradeRequest(const boost::beast::http::request_header<>& request);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string ComputeAccept(std::string_view key);

// Whether `accept` is the answer to `key`. An empty key never matches.
bool AcceptMatches(std::string_view key, std::string_view accept);

}  // namespace pier::dataplane::websocket
