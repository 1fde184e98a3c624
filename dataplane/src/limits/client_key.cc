#include "limits/client_key.h"

#include <algorithm>
#include <functional>

namespace pier::dataplane::limits {

ClientKey ClientKey::From(const boost::asio::ip::address& address) noexcept {
  ClientKey key;
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), key.bytes.begin());
    return key;
  }
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    const auto bytes = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_bytes();
    std::copy(bytes.begin(), bytes.end(), key.bytes.begin());
    return key;
  }
  const auto bytes = v6.to_bytes();
  std::copy(bytes.begin(), bytes.end(), key.bytes.begin());
  key.v4 = false;
  return key;
}

std::size_t HashOf(std::string_view route, const ClientKey& client) noexcept {
  // FNV-1a over the address, folded into the route's hash: cheap, and mixes every byte so
  // clients of one /24 spread over the shards.
  uint64_t hash = 14695981039346656037ull;
  for (uint8_t byte : client.bytes) {
    hash ^= byte;
    hash *= 1099511628211ull;
  }
  hash ^= client.v4 ? 0x9e3779b97f4a7c15ull : 0;
  return std::hash<std::string_view>{}(route) ^ (hash + 0x9e3779b97f4a7c15ull + (hash << 6) + (hash >> 2));
}

}  // namespace pier::dataplane::limits
