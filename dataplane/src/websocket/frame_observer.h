// The seam for frame-aware tunnels. The tunnel copies raw bytes; an observer per direction sees
// every byte in order and can follow WebSocket frame boundaries (to count messages and to know
// where a close frame may be injected on drain). The tunnel never re-frames anything itself.
#pragma once

#include <cstddef>

namespace pier::dataplane::websocket {

class FrameObserver {
 public:
  virtual ~FrameObserver() = default;
  // Called with each chunk read from one side, before it is written to the other.
  virtual void OnBytes(const char* data, std::size_t size) noexcept = 0;
};

}  // namespace pier::dataplane::websocket
