#include "pier/common/address.h"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <cstdint>

namespace pier::parse {
namespace {

namespace ip = boost::asio::ip;

Result<uint16_t> ParsePort(std::string_view text, std::string_view whole) {
  uint32_t port = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, port);
  if (text.empty() || ec != std::errc() || ptr != end || port > 65535) {
    return Fail("listen address \"" + std::string(whole) + "\": port must be a number from 0 to 65535");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

Result<ip::tcp::endpoint> ListenAddress(std::string_view text) {
  const std::string whole(text);
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Fail("listen address \"" + whole + "\": expected [IPV6]:PORT");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Fail("listen address \"" + whole + "\": expected HOST:PORT, :PORT or [IPV6]:PORT");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Fail("listen address \"" + whole + "\": an IPv6 address must be written in brackets, [::1]:PORT");
    }
  }
  auto port = ParsePort(port_text, text);
  if (!port) return Fail(port.error());

  if (host.empty()) return ip::tcp::endpoint(ip::address_v4::any(), *port);
  if (host == "localhost") return ip::tcp::endpoint(ip::address_v4::loopback(), *port);
  boost::system::error_code ec;
  auto address = ip::make_address(std::string(host), ec);
  if (ec) {
    return Fail("listen address \"" + whole + "\": \"" + std::string(host) + "\" is not an IP address");
  }
  return ip::tcp::endpoint(address, *port);
}

bool IsLoopback(const ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

std::string FormatEndpoint(const ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace pier::parse
