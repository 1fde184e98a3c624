// The frame tracker against frames built byte by byte: boundaries, message counting across
// fragmentation and control frames, all three length encodings, masked close codes, and
// arbitrary splitting of the stream into chunks.
#include "websocket/frame_tracker.h"

#include <gtest/gtest.h>

#include <string>

#include "websocket/close_frame.h"

namespace pier::dataplane::websocket {
namespace {

constexpr uint8_t kText = 0x1, kBinary = 0x2, kContinuation = 0x0, kClose = 0x8, kPing = 0x9, kPong = 0xA;

std::string Frame(uint8_t opcode, bool fin, std::size_t length, bool masked = false, char fill = 'x') {
  std::string frame;
  frame.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  unsigned char mask_bit = masked ? 0x80 : 0;
  if (length < 126) {
    frame.push_back(static_cast<char>(mask_bit | length));
  } else if (length <= 0xFFFF) {
    frame.push_back(static_cast<char>(mask_bit | 126));
    frame.push_back(static_cast<char>(length >> 8));
    frame.push_back(static_cast<char>(length & 0xFF));
  } else {
    frame.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((uint64_t{length} >> shift) & 0xFF));
  }
  if (masked) frame += std::string("\x11\x22\x33\x44", 4);
  frame += std::string(length, fill);
  return frame;
}

TEST(FrameTracker, CountsMessagesNotFramesOrControl) {
  FrameTracker tracker;
  std::string stream = Frame(kText, true, 5) + Frame(kPing, true, 0) + Frame(kBinary, false, 3) +
                       Frame(kPong, true, 4) + Frame(kContinuation, false, 3) + Frame(kContinuation, true, 3);
  EXPECT_EQ(tracker.Consume(stream.data(), stream.size(), false), stream.size());
  EXPECT_EQ(tracker.messages(), 2u);
  EXPECT_EQ(tracker.frames(), 6u);
  EXPECT_TRUE(tracker.at_boundary());
  EXPECT_FALSE(tracker.close_seen());
}

TEST(FrameTracker, AllLengthEncodingsAndAnySplit) {
  std::string stream = Frame(kBinary, true, 125, true) + Frame(kBinary, true, 126, true) +
                       Frame(kBinary, true, 70000, true) + Frame(kText, true, 0, true);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 13u, 4096u}) {
    FrameTracker tracker;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      std::size_t n = std::min(chunk, stream.size() - at);
      ASSERT_EQ(tracker.Consume(stream.data() + at, n, false), n);
    }
    EXPECT_EQ(tracker.messages(), 4u) << chunk;
    EXPECT_TRUE(tracker.at_boundary()) << chunk;
    EXPECT_FALSE(tracker.lost());
  }
}

TEST(FrameTracker, StopsAtTheFirstBoundary) {
  std::string first = Frame(kText, true, 10);
  std::string stream = first + Frame(kText, true, 10);
  FrameTracker tracker;
  ASSERT_EQ(tracker.Consume(stream.data(), 4, false), 4u);  // mid-frame
  EXPECT_FALSE(tracker.at_boundary());
  EXPECT_EQ(tracker.Consume(stream.data() + 4, stream.size() - 4, true), first.size() - 4);
  EXPECT_TRUE(tracker.at_boundary());
  EXPECT_EQ(tracker.Consume(stream.data() + first.size(), 5, true), 0u);  // already at one
  EXPECT_EQ(tracker.messages(), 1u);
}

TEST(FrameTracker, ZeroLengthFrameEndsAtItsHeader) {
  std::string stream = Frame(kPing, true, 0, true) + Frame(kText, true, 3);
  FrameTracker tracker;
  ASSERT_EQ(tracker.Consume(stream.data(), 1, false), 1u);
  EXPECT_EQ(tracker.Consume(stream.data() + 1, stream.size() - 1, true), 5u);
  EXPECT_TRUE(tracker.at_boundary());
  EXPECT_EQ(tracker.frames(), 1u);
}

TEST(FrameTracker, ReadsTheCloseCodeMaskedOrNot) {
  for (bool masked : {false, true}) {
    std::string frame = MakeCloseFrame(kCloseGoingAway, masked);
    EXPECT_EQ(frame.size(), masked ? 8u : 4u);
    FrameTracker tracker;
    // Split inside the payload so the code is assembled from two chunks.
    tracker.Consume(frame.data(), frame.size() - 1, false);
    EXPECT_FALSE(tracker.close_seen());
    tracker.Consume(frame.data() + frame.size() - 1, 1, false);
    EXPECT_TRUE(tracker.close_seen());
    ASSERT_TRUE(tracker.close_code().has_value());
    EXPECT_EQ(*tracker.close_code(), kCloseGoingAway);
  }
  FrameTracker empty_close;
  std::string frame = Frame(kClose, true, 0);
  empty_close.Consume(frame.data(), frame.size(), false);
  EXPECT_TRUE(empty_close.close_seen());
  EXPECT_FALSE(empty_close.close_code().has_value());
}

TEST(FrameTracker, MaskedCloseFramesUseFreshKeys) {
  EXPECT_NE(MakeCloseFrame(kCloseGoingAway, true), MakeCloseFrame(kCloseGoingAway, true));
  EXPECT_EQ(MakeCloseFrame(kCloseGoingAway, false), std::string("\x88\x02\x03\xe9", 4));
}

TEST(FrameTracker, GivesUpOnBytesThatCannotBeFrames) {
  for (std::string bad : {Frame(0x3, true, 1), Frame(kPing, false, 1), Frame(kPing, true, 126),
                          std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10), std::string("GET / HTTP/1.1\r\n")}) {
    FrameTracker tracker;
    tracker.Consume(bad.data(), bad.size(), false);
    EXPECT_TRUE(tracker.lost()) << bad;
    EXPECT_FALSE(tracker.at_boundary());
  }
}

}  // namespace
}  // namespace pier::dataplane::websocket
