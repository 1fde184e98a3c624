// The X-Forwarded-* family: who the client is, and what the upstream is told about it.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "pier/common/cidr.h"

namespace pier::dataplane::http {

// The client address for logs, limits and X-Real-IP. The TCP peer, unless the peer is a
// trusted proxy: then the rightmost X-Forwarded-For entry that is not itself trusted (the
// first hop nobody we trust vouches for). When every entry is trusted, the leftmost one. An
// entry that does not parse ends the walk at the last trusted hop, which is the one that
// forwarded the garbage. `forwarded_for` is every incoming X-Forwarded-For line joined by ",".
boost::asio::ip::address ClientAddress(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                                       const CidrSet& trusted);

// An address as it appears in headers and logs: IPv4-mapped IPv6 shown as IPv4, no brackets.
std::string FormatAddress(const boost::asio::ip::address& address);

// Parses one X-Forwarded-For entry: "1.2.3.4", "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]:80".
bool ParseForwardedEntry(std::string_view entry, boost::asio::ip::address& out) noexcept;

struct ForwardingContext {
  boost::asio::ip::address peer;
  bool tls = false;
  const CidrSet* trusted_proxies = nullptr;  // null = trust nobody
};

struct ForwardedRequest {
  boost::asio::ip::address address;  // the client, per ClientAddress (what limits and access rules see)
  std::string client;      // formatted client address: the X-Real-IP sent upstream
  std::string request_id;  // kept or generated
  // The X-Forwarded-For sent upstream: every incoming line joined, then the peer.
  std::string forwarded_for;
  // The scheme the client used, sent as X-Forwarded-Proto and deciding redirects to HTTPS and
  // HSTS: this connection's, or the X-Forwarded-Proto of a trusted proxy (scheme_from_proxy).
  bool tls = false;
  bool scheme_from_proxy = false;
  bool request_id_kept = false;     // the client's own X-Request-ID goes upstream where it was
  bool forwarded_trusted = false;   // RFC 7239 Forwarded passes (the peer is a trusted proxy)
  // The route's upstream-vhost: the Host sent upstream instead of the client's ("" = the
  // client's). Points into the route, which the exchange holds.
  std::string_view upstream_host;
  // The route's x-forwarded-prefix, sent as X-Forwarded-Prefix in place of the client's ("" =
  // the client's passes). Points into the route too.
  std::string_view prefix;
  // auth-tls-*: the ssl-client-verify, -subject-dn, -issuer-dn (and -cert) fields Pier sends,
  // as whole "Name: value\r\n" lines; the client's own fields of those four names are then
  // left out. Null: the host checks no client certificate, and such fields pass as any other.
  const std::string* client_certificate = nullptr;
  // A WebSocket handshake: "Connection: Upgrade" and "Upgrade: websocket" follow the client's
  // fields (its own went with the hop-by-hop fields), written rather than inserted.
  bool upgrade = false;
};

// The scheme an X-Forwarded-Proto value names: its rightmost element (the one the nearest proxy
// set or appended), `https` or `http` in any case; nullopt for anything else or an empty value.
std::optional<bool> ForwardedProtoIsHttps(std::string_view joined) noexcept;

// Works out the end-to-end forwarding headers of a request that already had its hop-by-hop
// headers removed: the peer appended to X-Forwarded-For, X-Real-IP, X-Forwarded-Proto,
// X-Forwarded-Host (the Host as received) and X-Request-ID. The request's fields are left as
// they are: AppendHead(head, forwarded, out) (message_writer.h) writes the head sent upstream
// with the client's own copies of these left out and Pier's appended after the other fields,
// which spares five field insertions (an allocation and a tree insert each) per request.
// X-Forwarded-Proto is Pier's own (this connection's scheme) unless the peer is a trusted
// proxy that sent one Pier understands: a load balancer that ended TLS in front of Pier then
// tells the backend, and Pier's own redirects, that the client used https.
// RFC 7239 `Forwarded` is never read by Pier. From a peer outside --trusted-proxies it is
// left out too, so an application that does read it cannot be fed a client-chosen "for=" or
// "proto="; from a trusted proxy it passes unchanged (that proxy vouches for it).
// `peer_text`: FormatAddress(context.peer) when the caller already has it (a connection formats
// its peer once, not per request); empty = formatted here.
ForwardedRequest ForwardRequest(const boost::beast::http::fields& fields, const ForwardingContext& context,
                                std::string_view peer_text = {});

// Every value of `name`, joined by "," (how RFC 9110 says repeated list fields combine).
std::string JoinedField(const boost::beast::http::fields& fields, std::string_view name);

}  // namespace pier::dataplane::http
