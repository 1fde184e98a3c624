// What a snapshot may ask of the dataplane. Values outside these bounds are not a matter of
// taste: they are mistakes (a unit mix-up, an overflow) that would pin memory or sockets, so the
// whole snapshot is refused and the last good one keeps serving.
#pragma once

#include <chrono>
#include <cstdint>

namespace pier::dataplane::bounds {

// Every timeout (connect, read, send, WebSocket idle). Users copy the classic "one hour" nginx
// WebSocket recipe, and long-lived tunnels may idle for a day; a week is beyond any real use.
inline constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(24 * 7);

// Header and tunnel buffers are allocated per connection: below 1 KiB no request line fits,
// above 4 MiB ten thousand tunnels would need tens of gigabytes.
inline constexpr uint32_t kMinBufferBytes = 1024;
inline constexpr uint32_t kMaxBufferBytes = 4u << 20;

// unavailable.status: a route that fails closed answers with a client or server error.
inline constexpr uint32_t kMinUnavailableStatus = 400;
inline constexpr uint32_t kMaxUnavailableStatus = 599;

// next_upstream.tries: each try may wait out a connect timeout; a hundred is already more
// endpoints than a request should walk.
inline constexpr uint32_t kMaxNextUpstreamTries = 100;

}  // namespace pier::dataplane::bounds
