#include "websocket/close_frame.h"

#include <openssl/rand.h>

#include <array>
#include <random>

namespace pier::dataplane::websocket {

namespace {

constexpr unsigned char kFinClose = 0x88;
constexpr unsigned char kMaskBit = 0x80;

std::array<unsigned char, 4> MaskKey() {
  std::array<unsigned char, 4> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    // The key only has to be unpredictable to scripts in a browser talking through us; a
    // seeded generator is an acceptable fallback if OpenSSL's pool is unavailable.
    thread_local std::mt19937 generator{std::random_device{}()};
    for (auto& byte : key) byte = static_cast<unsigned char>(generator());
  }
  return key;
}

}  // namespace

std::string MakeCloseFrame(uint16_t code, bool masked) {
  const unsigned char payload[2] = {static_cast<unsigned char>(code >> 8), static_cast<unsigned char>(code & 0xFF)};
  std::string frame;
  frame.push_back(static_cast<char>(kFinClose));
  frame.push_back(static_cast<char>((masked ? kMaskBit : 0) | sizeof(payload)));
  if (!masked) {
    frame.append(reinterpret_cast<const char*>(payload), sizeof(payload));
    return frame;
  }
  auto key = MaskKey();
  frame.append(reinterpret_cast<const char*>(key.data()), key.size());
  for (std::size_t i = 0; i < sizeof(payload); ++i) frame.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return frame;
}

}  // namespace pier::dataplane::websocket
