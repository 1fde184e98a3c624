// The close frame the proxy itself sends when it ends a tunnel gracefully (drain): status code,
// no reason text. Toward the client it is unmasked (server -> client); toward the upstream it
// is masked with a fresh key (client -> server, RFC 6455 5.3), as the upstream expects from a
// client.
#pragma once

#include <cstdint>
#include <string>

namespace pier::dataplane::websocket {

inline constexpr uint16_t kCloseGoingAway = 1001;

std::string MakeCloseFrame(uint16_t code, bool masked);

}  // namespace pier::dataplane::websocket
