#include "target.h"

#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace pier::bench {

std::optional<Target> ParseTarget(std::string_view url, std::string& error) {
  constexpr std::string_view kScheme = "ws://";
  if (!url.starts_with(kScheme)) {
    error = "the URL must start with ws://";
    return std::nullopt;
  }
  url.remove_prefix(kScheme.size());
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  Target target;
  if (slash != std::string_view::npos) target.path = std::string(url.substr(slash));
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == authority.size()) {
    error = "the URL needs an explicit port";
    return std::nullopt;
  }
  std::string_view host = authority.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  if (ec) {
    error = "the host must be a numeric address, got \"" + std::string(host) + "\"";
    return std::nullopt;
  }
  unsigned port = 0;
  auto digits = authority.substr(colon + 1);
  auto [end, parse_error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (parse_error != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
    error = "bad port \"" + std::string(digits) + "\"";
    return std::nullopt;
  }
  target.host = std::string(host);
  target.port = static_cast<uint16_t>(port);
  target.host_header = std::string(authority);
  return target;
}

}  // namespace pier::bench
