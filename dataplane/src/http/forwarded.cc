#include "http/forwarded.h"

#include <boost/beast/core/string.hpp>

#include <vector>

#include "http/ascii.h"
#include "http/request_id.h"

namespace pier::dataplane::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

asio::ip::address Unmapped(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

}  // namespace

bool ParseForwardedEntry(std::string_view entry, asio::ip::address& out) noexcept {
  entry = Trim(entry);
  if (entry.empty()) return false;
  boost::system::error_code ec;
  if (entry.front() == '[') {
    auto close = entry.find(']');
    if (close == std::string_view::npos) return false;
    auto rest = entry.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    out = asio::ip::make_address_v6(std::string(entry.substr(1, close - 1)), ec);
    return !ec;
  }
  // A single colon can only be IPv4 with a port; more colons are a bare IPv6 address.
  auto colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    out = asio::ip::make_address_v4(std::string(entry.substr(0, colon)), ec);
    return !ec;
  }
  out = asio::ip::make_address(std::string(entry), ec);
  return !ec;
}

asio::ip::address ClientAddress(const asio::ip::address& peer, std::string_view forwarded_for,
                                const CidrSet& trusted) {
  if (!trusted.Contains(peer) || Trim(forwarded_for).empty()) return Unmapped(peer);

  std::vector<std::string_view> entries;
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.find(',');
    entries.push_back(forwarded_for.substr(0, comma));
    if (comma == std::string_view::npos) break;
    forwarded_for.remove_prefix(comma + 1);
  }

  asio::ip::address candidate = Unmapped(peer);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (Trim(*it).empty()) continue;
    asio::ip::address hop;
    if (!ParseForwardedEntry(*it, hop)) return candidate;
    candidate = Unmapped(hop);
    if (!trusted.Contains(candidate)) return candidate;
  }
  return candidate;
}

// Once per connection: IPv4 is formatted here, since Asio's to_string goes through inet_ntop,
// which formats with sprintf (about 3 % of the proxy's user time per new WebSocket).
std::string FormatAddress(const asio::ip::address& address) {
  const asio::ip::address plain = Unmapped(address);
  if (!plain.is_v4()) return plain.to_string();
  const auto bytes = plain.to_v4().to_bytes();
  char text[15];  // 255.255.255.255
  char* out = text;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) *out++ = '.';
    const unsigned value = bytes[i];
    if (value >= 100) *out++ = static_cast<char>('0' + value / 100);
    if (value >= 10) *out++ = static_cast<char>('0' + value / 10 % 10);
    *out++ = static_cast<char>('0' + value % 10);
  }
  return std::string(text, static_cast<std::size_t>(out - text));
}

std::string JoinedField(const bhttp::fields& fields, std::string_view name) {
  std::string joined;
  auto [first, last] = fields.equal_range(name);
  for (auto it = first; it != last; ++it) {
    if (!joined.empty()) joined += ',';
    joined.append(it->value().data(), it->value().size());
  }
  return joined;
}

std::optional<bool> ForwardedProtoIsHttps(std::string_view joined) noexcept {
  const std::size_t comma = joined.rfind(',');
  const std::string_view last = Trim(comma == std::string_view::npos ? joined : joined.substr(comma + 1));
  if (IEquals(last, "https")) return true;
  if (IEquals(last, "http")) return false;
  return std::nullopt;
}

ForwardedRequest ForwardRequest(const bhttp::fields& fields, const ForwardingContext& context,
                                std::string_view peer_text) {
  ForwardedRequest result;
  std::string& forwarded_for = result.forwarded_for;
  forwarded_for = JoinedField(fields, "X-Forwarded-For");
  static const CidrSet kNobody;
  const CidrSet& trusted = context.trusted_proxies ? *context.trusted_proxies : kNobody;
  result.address = ClientAddress(context.peer, forwarded_for, trusted);
  const std::string peer = peer_text.empty() ? FormatAddress(context.peer) : std::string(peer_text);
  // Usually the client is the peer itself: its text is already at hand.
  result.client = result.address == Unmapped(context.peer) ? peer : FormatAddress(result.address);

  // The chain records hops: the peer is the hop that reached us, whatever it claims.
  if (Trim(forwarded_for).empty()) {
    forwarded_for = peer;
  } else {
    forwarded_for += ", ";
    forwarded_for += peer;
  }
  result.tls = context.tls;
  result.forwarded_trusted = trusted.Contains(context.peer);
  if (result.forwarded_trusted && fields.count("X-Forwarded-Proto") != 0) {
    if (auto https = ForwardedProtoIsHttps(JoinedField(fields, "X-Forwarded-Proto"))) {
      result.tls = *https;
      result.scheme_from_proxy = true;
    }
  }

  auto incoming_id = fields["X-Request-ID"];
  result.request_id_kept = fields.count("X-Request-ID") == 1 && IsValidRequestId(incoming_id);
  result.request_id = result.request_id_kept ? std::string(incoming_id) : GenerateRequestId();
  return result;
}

}  // namespace pier::dataplane::http
