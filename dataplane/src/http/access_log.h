// The access log: one JSON object per request, tunnel or passed-through TLS connection on stdout, through the spdlog logger
// named "access" (created here unless main already registered one).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace pier::dataplane::http {

struct AccessRecord {
  std::chrono::system_clock::time_point start;
  std::string_view client;
  std::string_view method;
  std::string_view host;
  std::string_view path;
  unsigned status = 0;
  std::string_view upstream;  // endpoint id, "" when none was used
  uint64_t bytes_in = 0;      // from the client
  uint64_t bytes_out = 0;     // to the client
  double duration_ms = 0;
  std::string_view route;  // route name, "" when none matched
  std::string_view request_id;
  // The user basic authentication let in; "" (and no field in the line) when none did.
  std::string_view user;
  // "type": "http", "websocket" (a tunnel) or "tls-passthrough" (ssl-passthrough: method, path
  // and request_id are "", status 0, host the SNI).
  enum class Kind { kHttp, kWebSocket, kTlsPassthrough };
  Kind kind = Kind::kHttp;
  // Tunnels and passthrough connections: the line is written when it closes, with why.
  std::string_view close_reason;
  // Tunnels only: the WebSocket messages each way (see websocket/frame_tracker.h for what
  // counts), who sent the first close frame ("client", "upstream", "proxy" on drain, "" when
  // none did) and its code.
  uint64_t messages_in = 0;   // from the client
  uint64_t messages_out = 0;  // to the client
  std::string_view close_initiator;
  unsigned close_code = 0;  // 0: no close frame, or one without a code
};

// Formats one line (no trailing newline). Exposed for tests.
std::string FormatAccessRecord(const AccessRecord& record);

void WriteAccessLog(const AccessRecord& record);

// --access-log=false: WriteAccessLog writes (and formats) nothing from then on.
void SetAccessLogEnabled(bool enabled);

}  // namespace pier::dataplane::http
