// IPv4/IPv6 networks for source-range annotations and --trusted-proxies. An IPv4 client seen
// through a dual-stack socket arrives as an IPv4-mapped IPv6 address (::ffff:a.b.c.d); it is
// matched as the IPv4 address it is, so a "10.0.0.0/8" rule cannot be bypassed that way.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"

namespace pier {

class Cidr final {
 public:
  // "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits below the
  // prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8), as nginx and Go do. An IPv4-mapped IPv6
  // network of /96 or longer becomes the IPv4 network it denotes. Zone ids are rejected.
  static Result<Cidr> Parse(std::string_view text);

  // Canonical text: "10.0.0.0/8", "2001:db8::/32".
  std::string ToString() const;
  bool Contains(const boost::asio::ip::address& address) const noexcept;

  bool is_v4() const noexcept { return v4_; }
  unsigned prefix_length() const noexcept { return prefix_; }

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  Cidr() = default;
  bool ContainsBytes(const uint8_t* bytes) const noexcept;

  bool v4_ = true;
  unsigned prefix_ = 0;
  std::array<uint8_t, 16> bytes_{};  // network address; IPv4 uses the first 4
};

// Comma-separated CIDRs, spaces around items allowed; an empty list or empty item is an error.
Result<std::vector<Cidr>> ParseCidrList(std::string_view text);

// A set of networks to test client addresses against.
class CidrSet final {
 public:
  CidrSet() = default;
  explicit CidrSet(std::vector<Cidr> cidrs);
  static Result<CidrSet> Parse(std::string_view text);

  bool Contains(const boost::asio::ip::address& address) const noexcept;
  bool empty() const noexcept { return cidrs_.empty(); }
  const std::vector<Cidr>& cidrs() const noexcept { return cidrs_; }

 private:
  std::vector<Cidr> cidrs_;
};

}  // namespace pier
