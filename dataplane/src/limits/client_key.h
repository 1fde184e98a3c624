// A client address as a fixed-size, hashable key for the limit tables. IPv4 and IPv4-mapped
// IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports) give the same key, so one client is
// never counted twice, nor escapes a limit, by switching address families.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pier::dataplane::limits {

struct ClientKey {
  std::array<uint8_t, 16> bytes{};
  bool v4 = true;

  static ClientKey From(const boost::asio::ip::address& address) noexcept;

  friend bool operator==(const ClientKey&, const ClientKey&) = default;
};

// (route, client): the key of a per-client counter or bucket. `route` is the route's stable
// name, so counts survive snapshot swaps that keep the route.
struct RouteClientView {
  std::string_view route;
  ClientKey client;
};

std::size_t HashOf(std::string_view route, const ClientKey& client) noexcept;

}  // namespace pier::dataplane::limits
