// Follows RFC 6455 frame headers in one direction of a tunnel without unmasking or copying
// payloads: the tunnel learns where frames end (so a close frame can be injected between two
// frames on drain), how many messages passed, and whether a close frame went by.
//
// Counting: a message is a data frame (text, binary or continuation) with FIN set, i.e. one per
// complete message however it was fragmented; control frames (ping, pong, close) are not
// messages. It is counted when its final frame's header passes.
//
// The tracker does not police the protocol (extensions may set RSV bits; the endpoints judge
// their peer). It only gives up ("lost") on bytes that cannot be a frame header at all -
// reserved opcodes, a 64-bit length with the top bit set, a fragmented or oversized control
// frame - because after that no frame boundary it reported could be trusted.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "websocket/frame_observer.h"

namespace pier::dataplane::websocket {

class FrameTracker final : public FrameObserver {
 public:
  // Follows `size` bytes, or only up to the end of the first frame that ends in them when
  // `stop_at_boundary` (0 when already between frames). Returns how many bytes were followed.
  std::size_t Consume(const char* data, std::size_t size, bool stop_at_boundary) noexcept;
  void OnBytes(const char* data, std::size_t size) noexcept override { Consume(data, size, false); }

  // Between two frames: nothing of a frame has passed without the rest of it.
  bool at_boundary() const noexcept { return !lost_ && state_ == State::kHeader && header_size_ == 0; }
  bool lost() const noexcept { return lost_; }
  uint64_t messages() const noexcept { return messages_; }
  uint64_t frames() const noexcept { return frames_; }
  bool close_seen() const noexcept { return close_seen_; }
  // Status code of the first complete close frame, when it carried one.
  std::optional<uint16_t> close_code() const noexcept { return close_code_; }

 private:
  enum class State : uint8_t { kHeader, kPayload };
  static constexpr std::size_t kMaxHeaderBytes = 14;  // 2 + 8 (length) + 4 (mask key)

  std::size_t HeaderBytesNeeded() const noexcept;
  void OnHeaderComplete() noexcept;
  void OnFrameComplete() noexcept;

  State state_ = State::kHeader;
  std::array<unsigned char, kMaxHeaderBytes> header_{};
  std::size_t header_size_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t payload_seen_ = 0;
  bool masked_ = false;
  uint8_t opcode_ = 0;
  std::array<unsigned char, 4> mask_{};
  std::array<unsigned char, 2> close_payload_{};
  bool lost_ = false;
  uint64_t messages_ = 0;
  uint64_t frames_ = 0;
  bool close_seen_ = false;
  std::optional<uint16_t> close_code_;
};

}  // namespace pier::dataplane::websocket
