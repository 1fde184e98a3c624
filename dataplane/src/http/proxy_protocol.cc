#include "http/proxy_protocol.h"

#include <algorithm>
#include <array>
#include <exception>
#include <string>

namespace pier::dataplane::http {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::size_t kV1MaxLine = 107;  // "PROXY TCP6 <39> <39> 65535 65535\r\n"
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t kV2FixedBytes = 16;

ProxyHeader Invalid(const char* why) {
  ProxyHeader header;
  header.status = ProxyHeader::Status::kInvalid;
  header.error = why;
  return header;
}

ProxyHeader NeedMore(std::size_t more) {
  ProxyHeader header;
  header.more = more;
  return header;
}

ProxyHeader Done(std::size_t length, std::optional<asio::ip::address> source) {
  ProxyHeader header;
  header.status = ProxyHeader::Status::kDone;
  header.length = length;
  header.source = source;
  return header;
}

// A version 1 line is US-ASCII text.
bool IsPrintable(char c) { return c >= ' ' && c <= '~'; }

// A port as version 1 writes it: 1 to 5 digits, no sign, no leading zero, at most 65535.
bool IsPort(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text.front() == '0')) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

ProxyHeader ParseV1(std::string_view bytes) {
  const std::size_t end = bytes.substr(0, kV1MaxLine).find("\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= kV1MaxLine) return Invalid("version 1 line longer than 107 bytes");
    // A line still arriving: only printable ASCII belongs in it, then perhaps the CR.
    std::string_view text = bytes;
    if (text.ends_with('\r')) text.remove_suffix(1);
    const bool printable = std::all_of(text.begin(), text.end(), IsPrintable);
    return printable ? NeedMore(1) : Invalid("version 1 line with a control byte");
  }
  std::string_view line = bytes.substr(0, end);
  if (!std::all_of(line.begin(), line.end(), IsPrintable)) return Invalid("version 1 line with a control byte");
  if (!line.starts_with(kV1Prefix)) return Invalid("version 1 line does not start with \"PROXY \"");
  line.remove_prefix(kV1Prefix.size());
  const std::size_t length = end + 2;
  // UNKNOWN: the balancer could not tell; the rest of the line is to be ignored.
  if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) return Done(length, std::nullopt);
  std::array<std::string_view, 5> fields;
  std::size_t count = 0;
  while (!line.empty()) {
    const std::size_t space = line.find(' ');
    if (count == fields.size()) return Invalid("version 1 line has too many fields");
    fields[count++] = line.substr(0, space);
    if (fields[count - 1].empty()) return Invalid("version 1 line has an empty field");
    line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    if (space != std::string_view::npos && line.empty()) return Invalid("version 1 line ends with a space");
  }
  if (count == 0) return Invalid("version 1 line names no protocol");
  const bool v4 = fields[0] == "TCP4";
  if (!v4 && fields[0] != "TCP6") return Invalid("version 1 protocol is not TCP4, TCP6 or UNKNOWN");
  if (count != 5) return Invalid("version 1 line needs source, destination and both ports");
  boost::system::error_code source_ec;
  boost::system::error_code destination_ec;
  asio::ip::address source;
  if (v4) {
    source = asio::ip::make_address_v4(std::string(fields[1]), source_ec);
    asio::ip::make_address_v4(std::string(fields[2]), destination_ec);
  } else {
    source = asio::ip::make_address_v6(std::string(fields[1]), source_ec);
    asio::ip::make_address_v6(std::string(fields[2]), destination_ec);
  }
  if (source_ec || destination_ec) return Invalid("version 1 address does not match its protocol");
  if (!IsPort(fields[3]) || !IsPort(fields[4])) return Invalid("version 1 port is not a number from 0 to 65535");
  return Done(length, source);
}

ProxyHeader ParseV2(std::string_view bytes) {
  if (bytes.size() < kV2FixedBytes) return NeedMore(kV2FixedBytes - bytes.size());
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if (byte(12) >> 4 != 2) return Invalid("version 2 header with another version number");
  const unsigned command = byte(12) & 0x0f;
  if (command > 1) return Invalid("version 2 command is neither LOCAL nor PROXY");
  const unsigned family = byte(13) >> 4;
  const unsigned transport = byte(13) & 0x0f;
  if (family > 3 || transport > 2) return Invalid("version 2 address family or transport is undefined");
  const std::size_t length = kV2FixedBytes + (static_cast<std::size_t>(byte(14)) << 8 | byte(15));
  if (length > kMaxProxyHeaderBytes) return Invalid("version 2 header longer than Pier accepts");
  if (bytes.size() < length) return NeedMore(length - bytes.size());
  // LOCAL: the balancer's own connection (a health check); keep the peer.
  if (command == 0) return Done(length, std::nullopt);
  constexpr unsigned kStream = 1;
  constexpr unsigned kInet = 1;
  constexpr unsigned kInet6 = 2;
  if (family == kInet && transport == kStream) {
    if (length < kV2FixedBytes + 12) return Invalid("version 2 TCP over IPv4 without room for its addresses");
    asio::ip::address_v4::bytes_type address;
    std::copy_n(bytes.begin() + kV2FixedBytes, address.size(), address.begin());
    return Done(length, asio::ip::address_v4(address));
  }
  if (family == kInet6 && transport == kStream) {
    if (length < kV2FixedBytes + 36) return Invalid("version 2 TCP over IPv6 without room for its addresses");
    asio::ip::address_v6::bytes_type address;
    std::copy_n(bytes.begin() + kV2FixedBytes, address.size(), address.begin());
    return Done(length, asio::ip::address_v6(address));
  }
  return Done(length, std::nullopt);  // UNSPEC, UDP or a Unix socket: no TCP client to name
}

}  // namespace

ProxyHeader ParseProxyHeader(std::string_view bytes) noexcept {
  if (bytes.empty()) return NeedMore(1);
  try {
    if (bytes.front() == 'P') {
      const std::size_t n = std::min(bytes.size(), kV1Prefix.size());
      if (bytes.substr(0, n) != kV1Prefix.substr(0, n)) return Invalid("not a PROXY protocol header");
      return ParseV1(bytes);
    }
    const std::size_t n = std::min(bytes.size(), kV2Signature.size());
    if (bytes.substr(0, n) != kV2Signature.substr(0, n)) return Invalid("not a PROXY protocol header");
    return ParseV2(bytes);
  } catch (const std::exception&) {  // out of memory for an address's text
    return Invalid("PROXY protocol header could not be read");
  }
}

}  // namespace pier::dataplane::http
