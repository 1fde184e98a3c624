#include "websocket/frame_tracker.h"

#include <algorithm>

namespace pier::dataplane::websocket {

namespace {
constexpr uint8_t kOpcodeClose = 0x8;
constexpr uint8_t kMaxControlPayload = 125;

bool IsControl(uint8_t opcode) { return (opcode & 0x8) != 0; }
bool IsKnownOpcode(uint8_t opcode) { return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA); }
}  // namespace

std::size_t FrameTracker::HeaderBytesNeeded() const noexcept {
  if (header_size_ < 2) return 2;
  std::size_t needed = 2;
  uint8_t length7 = header_[1] & 0x7F;
  if (length7 == 126) needed += 2;
  if (length7 == 127) needed += 8;
  if (header_[1] & 0x80) needed += 4;
  return needed;
}

std::size_t FrameTracker::Consume(const char* data, std::size_t size, bool stop_at_boundary) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  std::size_t used = 0;
  if (stop_at_boundary && at_boundary()) return 0;
  while (used < size && !lost_) {
    if (state_ == State::kHeader) {
      std::size_t needed = HeaderBytesNeeded();
      std::size_t take = std::min(needed - header_size_, size - used);
      std::copy_n(bytes + used, take, header_.begin() + header_size_);
      header_size_ += take;
      used += take;
      // The first two bytes say how long the header really is: loop to fetch the rest.
      if (header_size_ < HeaderBytesNeeded()) continue;
      OnHeaderComplete();
      if (lost_) break;
      if (payload_left_ == 0) {
        OnFrameComplete();
        if (stop_at_boundary) break;
      }
      continue;
    }
    std::size_t take = static_cast<std::size_t>(std::min<uint64_t>(payload_left_, size - used));
    if (opcode_ == kOpcodeClose) {
      // The status code is the first two payload bytes; client frames carry them masked.
      for (std::size_t i = 0; i < take && payload_seen_ + i < close_payload_.size(); ++i) {
        std::size_t at = static_cast<std::size_t>(payload_seen_ + i);
        close_payload_[at] = bytes[used + i] ^ (masked_ ? mask_[at % 4] : 0);
      }
    }
    payload_seen_ += take;
    payload_left_ -= take;
    used += take;
    if (payload_left_ == 0) {
      OnFrameComplete();
      if (stop_at_boundary) break;
    }
  }
  return lost_ ? size : used;
}

void FrameTracker::OnHeaderComplete() noexcept {
  bool fin = (header_[0] & 0x80) != 0;
  opcode_ = header_[0] & 0x0F;
  masked_ = (header_[1] & 0x80) != 0;
  uint8_t length7 = header_[1] & 0x7F;
  std::size_t at = 2;
  uint64_t length = length7;
  if (length7 == 126) {
    length = (uint64_t{header_[2]} << 8) | header_[3];
    at = 4;
  } else if (length7 == 127) {
    length = 0;
    for (std::size_t i = 0; i < 8; ++i) length = (length << 8) | header_[2 + i];
    at = 10;
    if (length >> 63) lost_ = true;
  }
  if (masked_) std::copy_n(header_.begin() + at, 4, mask_.begin());
  if (!IsKnownOpcode(opcode_)) lost_ = true;
  if (IsControl(opcode_) && (!fin || length > kMaxControlPayload)) lost_ = true;
  if (lost_) return;
  ++frames_;
  if (!IsControl(opcode_) && fin) ++messages_;
  payload_left_ = length;
  payload_seen_ = 0;
  state_ = State::kPayload;
}

void FrameTracker::OnFrameComplete() noexcept {
  if (opcode_ == kOpcodeClose && !close_seen_) {
    close_seen_ = true;
    if (payload_seen_ >= 2) close_code_ = static_cast<uint16_t>((close_payload_[0] << 8) | close_payload_[1]);
  }
  state_ = State::kHeader;
  header_size_ = 0;
}

}  // namespace pier::dataplane::websocket
