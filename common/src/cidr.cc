#include "pier/common/cidr.h"

#include <charconv>
#include <cstring>

#include "pier/common/parse.h"

namespace pier {
namespace {

namespace ip = boost::asio::ip;

// The IPv4 address inside an IPv4-mapped IPv6 address; any other address unchanged.
ip::address Unmap(const ip::address& address) noexcept {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

Error CidrError(std::string_view text, std::string_view why) {
  return Fail("invalid CIDR \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

Result<Cidr> Cidr::Parse(std::string_view text) {
  if (text.empty()) return CidrError(text, "empty");
  const auto slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  if (address_text.find('%') != std::string_view::npos) return CidrError(text, "zone ids are not allowed");

  boost::system::error_code ec;
  const ip::address address = ip::make_address(std::string(address_text), ec);
  if (ec) return CidrError(text, "\"" + std::string(address_text) + "\" is not an IPv4 or IPv6 address");

  Cidr cidr;
  cidr.v4_ = address.is_v4();
  const unsigned max_prefix = cidr.v4_ ? 32 : 128;
  cidr.prefix_ = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view length = text.substr(slash + 1);
    unsigned value = 0;
    const auto [end, err] = std::from_chars(length.data(), length.data() + length.size(), value);
    if (length.empty() || err != std::errc() || end != length.data() + length.size() || value > max_prefix) {
      return CidrError(text, "prefix length must be a number from 0 to " + std::to_string(max_prefix));
    }
    cidr.prefix_ = value;
  }
  if (cidr.v4_) {
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(cidr.bytes_.data(), bytes.data(), bytes.size());
  } else {
    const auto v6 = address.to_v6();
    if (v6.is_v4_mapped() && cidr.prefix_ >= 96) {
      const auto bytes = ip::make_address_v4(ip::v4_mapped, v6).to_bytes();
      std::memcpy(cidr.bytes_.data(), bytes.data(), bytes.size());
      cidr.v4_ = true;
      cidr.prefix_ -= 96;
    } else {
      const auto bytes = v6.to_bytes();
      std::memcpy(cidr.bytes_.data(), bytes.data(), bytes.size());
    }
  }
  // Clear host bits so equal networks compare and print equal.
  for (unsigned i = 0; i < cidr.bytes_.size(); ++i) {
    const unsigned bit = i * 8;
    if (bit >= cidr.prefix_) {
      cidr.bytes_[i] = 0;
    } else if (cidr.prefix_ - bit < 8) {
      cidr.bytes_[i] &= static_cast<uint8_t>(0xFF << (8 - (cidr.prefix_ - bit)));
    }
  }
  return cidr;
}

std::string Cidr::ToString() const {
  std::string out;
  if (v4_) {
    ip::address_v4::bytes_type bytes;
    std::memcpy(bytes.data(), bytes_.data(), bytes.size());
    out = ip::make_address_v4(bytes).to_string();
  } else {
    ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), bytes_.data(), bytes.size());
    out = ip::make_address_v6(bytes).to_string();
  }
  return out + "/" + std::to_string(prefix_);
}

bool Cidr::ContainsBytes(const uint8_t* bytes) const noexcept {
  const unsigned full = prefix_ / 8;
  if (std::memcmp(bytes, bytes_.data(), full) != 0) return false;
  const unsigned rest = prefix_ % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (bytes[full] & mask) == bytes_[full];
}

bool Cidr::Contains(const ip::address& raw) const noexcept {
  const ip::address address = Unmap(raw);
  if (address.is_v4() != v4_) return false;
  if (v4_) {
    const auto bytes = address.to_v4().to_bytes();
    return ContainsBytes(bytes.data());
  }
  const auto bytes = address.to_v6().to_bytes();
  return ContainsBytes(bytes.data());
}

Result<std::vector<Cidr>> ParseCidrList(std::string_view text) {
  std::vector<Cidr> out;
  if (parse::TrimSpace(text).empty()) return Fail("invalid CIDR list \"" + std::string(text) + "\": empty");
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string_view item =
        parse::TrimSpace(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) return Fail("invalid CIDR list \"" + std::string(text) + "\": empty item");
    auto cidr = Cidr::Parse(item);
    if (!cidr) return Fail(cidr.error());
    out.push_back(*cidr);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

CidrSet::CidrSet(std::vector<Cidr> cidrs) : cidrs_(std::move(cidrs)) {}

Result<CidrSet> CidrSet::Parse(std::string_view text) {
  auto cidrs = ParseCidrList(text);
  if (!cidrs) return Fail(cidrs.error());
  return CidrSet(std::move(*cidrs));
}

bool CidrSet::Contains(const ip::address& address) const noexcept {
  const ip::address unmapped = Unmap(address);
  for (const Cidr& cidr : cidrs_) {
    if (cidr.Contains(unmapped)) return true;
  }
  return false;
}

}  // namespace pier
