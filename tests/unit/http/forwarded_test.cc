#include "http/forwarded.h"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

#include <string>

#include "http/message_writer.h"
#include "http/request_id.h"

namespace pier::dataplane::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

asio::ip::address Addr(const char* text) { return asio::ip::make_address(text); }

CidrSet Trusted(const char* text) {
  auto set = CidrSet::Parse(text);
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error());
  return *set;
}

TEST(ClientAddress, UntrustedPeerIgnoresForwardedFor) {
  auto trusted = Trusted("10.0.0.0/8");
  EXPECT_EQ(ClientAddress(Addr("203.0.113.9"), "1.2.3.4", trusted), Addr("203.0.113.9"));
}

TEST(ClientAddress, NoTrustedProxiesMeansPeer) {
  CidrSet nobody;
  EXPECT_EQ(ClientAddress(Addr("10.0.0.1"), "1.2.3.4", nobody), Addr("10.0.0.1"));
}

TEST(ClientAddress, TrustedPeerTakesRightmostUntrustedEntry) {
  auto trusted = Trusted("10.0.0.0/8");
  // A client forged the first entry; the trusted chain appended the real one after it.
  EXPECT_EQ(ClientAddress(Addr("10.0.0.1"), "6.6.6.6, 198.51.100.7, 10.1.1.1", trusted), Addr("198.51.100.7"));
}

TEST(ClientAddress, JoinedLinesAreOneList) {
  auto trusted = Trusted("10.0.0.0/8");
  EXPECT_EQ(ClientAddress(Addr("10.0.0.1"), "198.51.100.7,10.2.2.2", trusted), Addr("198.51.100.7"));
}

TEST(ClientAddress, AllTrustedTakesLeftmost) {
  auto trusted = Trusted("10.0.0.0/8");
  EXPECT_EQ(ClientAddress(Addr("10.0.0.1"), "10.9.9.9, 10.8.8.8", trusted), Addr("10.9.9.9"));
}

TEST(ClientAddress, GarbageStopsAtTheLastTrustedHop) {
  auto trusted = Trusted("10.0.0.0/8");
  EXPECT_EQ(ClientAddress(Addr("10.0.0.1"), "1.1.1.1, not-an-ip, 10.3.3.3", trusted), Addr("10.3.3.3"));
  EXPECT_EQ(ClientAddress(Addr("10.0.0.1"), "junk", trusted), Addr("10.0.0.1"));
}

TEST(ClientAddress, TrustedPeerWithoutHeaderIsThePeer) {
  auto trusted = Trusted("10.0.0.0/8");
  EXPECT_EQ(ClientAddress(Addr("10.0.0.1"), "", trusted), Addr("10.0.0.1"));
}

TEST(ClientAddress, MappedIpv4PeerMatchesIpv4Ranges) {
  auto trusted = Trusted("10.0.0.0/8");
  EXPECT_EQ(ClientAddress(Addr("::ffff:10.0.0.1"), "198.51.100.7", trusted), Addr("198.51.100.7"));
  EXPECT_EQ(FormatAddress(Addr("::ffff:203.0.113.1")), "203.0.113.1");
}

// FormatAddress writes IPv4 itself: every address formats as Asio (inet_ntop) does.
TEST(FormatAddress, MatchesAsioForEveryOctetAndIpv6) {
  for (unsigned value = 0; value < 256; ++value) {
    for (unsigned position = 0; position < 4; ++position) {
      asio::ip::address_v4::bytes_type bytes{1, 20, 255, 0};
      bytes[position] = static_cast<unsigned char>(value);
      const asio::ip::address_v4 v4(bytes);
      ASSERT_EQ(FormatAddress(asio::ip::address(v4)), v4.to_string());
      ASSERT_EQ(FormatAddress(asio::ip::address(asio::ip::make_address_v6(asio::ip::v4_mapped, v4))), v4.to_string());
    }
  }
  EXPECT_EQ(FormatAddress(Addr("0.0.0.0")), "0.0.0.0");
  EXPECT_EQ(FormatAddress(Addr("255.255.255.255")), "255.255.255.255");
  EXPECT_EQ(FormatAddress(Addr("2001:db8::1")), "2001:db8::1");
  EXPECT_EQ(FormatAddress(Addr("::1")), "::1");
}

TEST(ParseForwardedEntry, AcceptsPortsAndBrackets) {
  asio::ip::address out;
  ASSERT_TRUE(ParseForwardedEntry(" 1.2.3.4:8080 ", out));
  EXPECT_EQ(out, Addr("1.2.3.4"));
  ASSERT_TRUE(ParseForwardedEntry("[2001:db8::1]:443", out));
  EXPECT_EQ(out, Addr("2001:db8::1"));
  ASSERT_TRUE(ParseForwardedEntry("2001:db8::2", out));
  EXPECT_EQ(out, Addr("2001:db8::2"));
  EXPECT_FALSE(ParseForwardedEntry("unknown", out));
  EXPECT_FALSE(ParseForwardedEntry("[2001:db8::1", out));
  EXPECT_FALSE(ParseForwardedEntry("", out));
}

// What the upstream receives: the request head AppendHead writes for ForwardRequest's result,
// parsed back. `fields` are the client's (hop-by-hop ones already removed).
struct Sent {
  ForwardedRequest result;
  bhttp::fields fields;
  std::string head;
};

Sent Forward(bhttp::fields fields, const ForwardingContext& context, std::string_view peer_text = {}) {
  bhttp::request_header<> request(std::move(fields));
  request.method(bhttp::verb::get);
  request.target("/");
  request.version(11);
  Sent sent;
  sent.result = ForwardRequest(request, context, peer_text);
  AppendHead(request, sent.result, sent.head);
  bhttp::request_parser<bhttp::empty_body> parser;
  boost::system::error_code ec;
  parser.put(asio::buffer(sent.head), ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << sent.head;
  EXPECT_TRUE(parser.is_header_done()) << sent.head;
  sent.fields = parser.get().base();
  return sent;
}

TEST(ForwardRequest, AppendsPeerAndSetsTheFamily) {
  auto trusted = Trusted("10.0.0.0/8");
  bhttp::fields fields;
  fields.set(bhttp::field::host, "app.example.com:8080");
  fields.insert("X-Forwarded-For", "198.51.100.7");
  fields.insert("X-Forwarded-For", "10.1.1.1");
  fields.set("X-Forwarded-Proto", "https");  // a trusted proxy's scheme passes
  fields.set("x-real-ip", "6.6.6.6");        // in any case, replaced
  fields.set("X-Forwarded-Host", "evil.example");
  fields.set(bhttp::field::user_agent, "test");
  auto sent = Forward(std::move(fields), {Addr("10.0.0.1"), false, &trusted});
  EXPECT_EQ(sent.result.client, "198.51.100.7");
  EXPECT_EQ(sent.fields["X-Forwarded-For"], "198.51.100.7,10.1.1.1, 10.0.0.1");
  EXPECT_EQ(sent.fields.count("X-Forwarded-For"), 1u);
  EXPECT_EQ(sent.fields["X-Real-IP"], "198.51.100.7");
  EXPECT_EQ(sent.fields.count("X-Real-IP"), 1u);
  EXPECT_EQ(sent.fields["X-Forwarded-Proto"], "https");
  EXPECT_EQ(sent.fields.count("X-Forwarded-Proto"), 1u);
  EXPECT_EQ(sent.fields["X-Forwarded-Host"], "app.example.com:8080");
  EXPECT_EQ(sent.fields.count("X-Forwarded-Host"), 1u);
  EXPECT_EQ(sent.fields[bhttp::field::host], "app.example.com:8080");
  EXPECT_EQ(sent.fields[bhttp::field::user_agent], "test");
  EXPECT_TRUE(IsValidRequestId(sent.fields["X-Request-ID"]));
  EXPECT_EQ(sent.fields["X-Request-ID"], sent.result.request_id);
  // The client's other fields keep their order, and the forwarding family follows them.
  EXPECT_EQ(sent.head,
            "GET / HTTP/1.1\r\nHost: app.example.com:8080\r\nUser-Agent: test\r\n"
            "X-Forwarded-For: 198.51.100.7,10.1.1.1, 10.0.0.1\r\nX-Real-IP: 198.51.100.7\r\n"
            "X-Forwarded-Proto: https\r\nX-Forwarded-Host: app.example.com:8080\r\nX-Request-ID: " +
                sent.result.request_id + "\r\n\r\n");
}

TEST(ForwardRequest, AClientsSchemeClaimIsReplaced) {
  auto trusted = Trusted("10.0.0.0/8");
  bhttp::fields fields;
  fields.set("X-Forwarded-Proto", "https");
  auto sent = Forward(std::move(fields), {Addr("203.0.113.9"), false, &trusted});
  EXPECT_FALSE(sent.result.tls);
  EXPECT_FALSE(sent.result.scheme_from_proxy);
  EXPECT_EQ(sent.fields["X-Forwarded-Proto"], "http");
  EXPECT_EQ(sent.fields.count("X-Forwarded-Proto"), 1u);
}

TEST(ForwardRequest, ATrustedProxysSchemeIsTheClients) {
  auto trusted = Trusted("10.0.0.0/8");
  // A load balancer that ended TLS: the client used https, whatever this connection is.
  bhttp::fields offloaded;
  offloaded.set("X-Forwarded-Proto", "HTTPS");
  auto https = Forward(std::move(offloaded), {Addr("10.0.0.1"), false, &trusted});
  EXPECT_TRUE(https.result.tls);
  EXPECT_TRUE(https.result.scheme_from_proxy);
  EXPECT_EQ(https.fields["X-Forwarded-Proto"], "https");
  // And the other way round: plain http in front of a TLS hop.
  bhttp::fields plain;
  plain.set("X-Forwarded-Proto", "http");
  auto http = Forward(std::move(plain), {Addr("10.0.0.1"), true, &trusted});
  EXPECT_FALSE(http.result.tls);
  EXPECT_EQ(http.fields["X-Forwarded-Proto"], "http");
  // A value Pier does not understand leaves the connection's own scheme.
  bhttp::fields odd;
  odd.set("X-Forwarded-Proto", "wss");
  auto own = Forward(std::move(odd), {Addr("10.0.0.1"), true, &trusted});
  EXPECT_TRUE(own.result.tls);
  EXPECT_FALSE(own.result.scheme_from_proxy);
  EXPECT_EQ(own.fields["X-Forwarded-Proto"], "https");
}

TEST(ForwardedProtoIsHttps, TheRightmostElementCounts) {
  EXPECT_EQ(ForwardedProtoIsHttps("https"), true);
  EXPECT_EQ(ForwardedProtoIsHttps(" Https\t"), true);
  EXPECT_EQ(ForwardedProtoIsHttps("http"), false);
  // A client's forged first element, then what the nearest proxy appended.
  EXPECT_EQ(ForwardedProtoIsHttps("https, http"), false);
  EXPECT_EQ(ForwardedProtoIsHttps("http,https"), true);
  EXPECT_EQ(ForwardedProtoIsHttps(""), std::nullopt);
  EXPECT_EQ(ForwardedProtoIsHttps("https,"), std::nullopt);
  EXPECT_EQ(ForwardedProtoIsHttps("ftp"), std::nullopt);
  EXPECT_EQ(ForwardedProtoIsHttps("httpss"), std::nullopt);
}

// GET /x HTTP/1.1 with this Host.
bhttp::request_header<> GetX(std::string_view host) {
  bhttp::request_header<> request;
  request.method(bhttp::verb::get);
  request.target("/x");
  request.version(11);
  request.set(bhttp::field::host, host);
  return request;
}

TEST(ForwardRequest, UpstreamHostReplacesTheHostInItsPlace) {
  bhttp::request_header<> request = GetX("app.example.com");
  request.set(bhttp::field::user_agent, "test");
  ForwardedRequest forwarded = ForwardRequest(request, {Addr("203.0.113.9"), false, nullptr});
  forwarded.upstream_host = "internal.svc:8080";
  std::string head;
  AppendHead(request, forwarded, head);
  EXPECT_EQ(head, "GET /x HTTP/1.1\r\nHost: internal.svc:8080\r\nUser-Agent: test\r\nX-Forwarded-For: 203.0.113.9\r\n"
                  "X-Real-IP: 203.0.113.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: app.example.com\r\n"
                  "X-Request-ID: " + forwarded.request_id + "\r\n\r\n");
}

TEST(ForwardRequest, AHandshakeGetsItsConnectionAndUpgradeWrittenAfterTheFields) {
  bhttp::request_header<> request = GetX("app.example.com");
  request.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  request.set(bhttp::field::sec_websocket_version, "13");
  ForwardedRequest forwarded = ForwardRequest(request, {Addr("203.0.113.9"), false, nullptr});
  forwarded.upgrade = true;
  std::string head;
  AppendHead(request, forwarded, head);
  EXPECT_EQ(head, "GET /x HTTP/1.1\r\nHost: app.example.com\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  "X-Forwarded-For: 203.0.113.9\r\nX-Real-IP: 203.0.113.9\r\nX-Forwarded-Proto: http\r\n"
                  "X-Forwarded-Host: app.example.com\r\nX-Request-ID: " + forwarded.request_id + "\r\n\r\n");
  forwarded.upgrade = false;
  std::string plain;
  AppendHead(request, forwarded, plain);
  EXPECT_EQ(plain.find("Upgrade"), std::string::npos) << plain;
}

TEST(ForwardRequest, ARoutesPrefixReplacesTheClients) {
  bhttp::request_header<> request = GetX("a.example");
  request.set("X-Forwarded-Prefix", "/spoofed");
  ForwardedRequest forwarded = ForwardRequest(request, {Addr("203.0.113.9"), false, nullptr});
  std::string kept;
  AppendHead(request, forwarded, kept);
  EXPECT_NE(kept.find("X-Forwarded-Prefix: /spoofed\r\n"), std::string::npos);  // no annotation: passes
  forwarded.prefix = "/api";
  std::string head;
  AppendHead(request, forwarded, head);
  EXPECT_EQ(head.find("/spoofed"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-Host: a.example\r\nX-Forwarded-Prefix: /api\r\n"), std::string::npos) << head;
}

TEST(ForwardRequest, ClientCertificateFieldsReplaceTheClientsOnlyWhenSet) {
  bhttp::request_header<> request = GetX("a.example");
  request.set("SSL-Client-Verify", "SUCCESS");
  request.set("ssl-client-subject-dn", "CN=forged");
  request.set("Ssl-Client-Issuer-DN", "CN=forged CA");
  request.set("ssl-client-cert", "forged");
  request.set("ssl-client-other", "kept");
  ForwardedRequest forwarded = ForwardRequest(request, {Addr("203.0.113.9"), true, nullptr});
  std::string plain;
  AppendHead(request, forwarded, plain);
  EXPECT_NE(plain.find("SSL-Client-Verify: SUCCESS\r\n"), std::string::npos);  // no client auth: they pass
  const std::string fields = "ssl-client-verify: NONE\r\n";
  forwarded.client_certificate = &fields;
  std::string head;
  AppendHead(request, forwarded, head);
  EXPECT_EQ(head.find("forged"), std::string::npos) << head;
  EXPECT_EQ(head.find("SUCCESS"), std::string::npos) << head;
  EXPECT_NE(head.find("ssl-client-other: kept\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\nssl-client-verify: NONE\r\n\r\n")) << head;
}

TEST(ForwardRequest, NoHostNoForwardedHost) {
  bhttp::fields fields;
  fields.set("X-Forwarded-Host", "evil.example");
  auto sent = Forward(std::move(fields), {Addr("203.0.113.9"), false, nullptr});
  EXPECT_EQ(sent.fields.count("X-Forwarded-Host"), 0u);
}

TEST(ForwardRequest, UsesThePeerTextTheConnectionFormatted) {
  auto trusted = Trusted("10.0.0.0/8");
  bhttp::fields fields;
  fields.set("X-Forwarded-For", "198.51.100.7");
  // From a trusted peer the client is the forwarded hop, not the peer's own text.
  auto forwarded = Forward(std::move(fields), {Addr("10.0.0.1"), false, &trusted}, "10.0.0.1");
  EXPECT_EQ(forwarded.result.client, "198.51.100.7");
  EXPECT_EQ(forwarded.fields["X-Forwarded-For"], "198.51.100.7, 10.0.0.1");
  auto peer = Forward({}, {Addr("::ffff:203.0.113.9"), false, nullptr}, "203.0.113.9");
  EXPECT_EQ(peer.result.client, "203.0.113.9");
  EXPECT_EQ(peer.fields["X-Real-IP"], "203.0.113.9");
  EXPECT_EQ(peer.fields["X-Forwarded-For"], "203.0.113.9");
}

TEST(ForwardRequest, UntrustedPeerStillAppends) {
  bhttp::fields fields;
  fields.set("X-Forwarded-For", "6.6.6.6");
  auto sent = Forward(std::move(fields), {Addr("203.0.113.9"), true, nullptr});
  EXPECT_EQ(sent.result.client, "203.0.113.9");
  EXPECT_EQ(sent.fields["X-Forwarded-For"], "6.6.6.6, 203.0.113.9");
  EXPECT_EQ(sent.fields["X-Real-IP"], "203.0.113.9");
  EXPECT_EQ(sent.fields["X-Forwarded-Proto"], "https");
}

TEST(ForwardRequest, KeepsAValidRequestIdAndReplacesABadOne) {
  bhttp::fields good;
  good.set("X-Request-ID", "trace-123:abc");
  auto kept = Forward(std::move(good), {Addr("127.0.0.1"), false, nullptr});
  EXPECT_EQ(kept.result.request_id, "trace-123:abc");
  EXPECT_EQ(kept.fields["X-Request-ID"], "trace-123:abc");
  EXPECT_EQ(kept.fields.count("X-Request-ID"), 1u);

  bhttp::fields bad;
  bad.set("X-Request-ID", "has space");
  auto replaced = Forward(std::move(bad), {Addr("127.0.0.1"), false, nullptr});
  const auto& id = replaced.result.request_id;
  EXPECT_NE(id, "has space");
  EXPECT_EQ(replaced.fields["X-Request-ID"], id);
  EXPECT_EQ(replaced.fields.count("X-Request-ID"), 1u);
  EXPECT_EQ(id.size(), 32u);

  bhttp::fields twice;  // two IDs: neither is believed
  twice.insert("X-Request-ID", "a1");
  twice.insert("x-request-id", "b2");
  auto one = Forward(std::move(twice), {Addr("127.0.0.1"), false, nullptr});
  EXPECT_EQ(one.fields.count("X-Request-ID"), 1u);
  EXPECT_EQ(one.fields["X-Request-ID"], one.result.request_id);
}

TEST(ForwardRequest, ForwardedFromUntrustedPeersIsRemoved) {
  bhttp::fields fields;
  fields.set(bhttp::field::forwarded, "for=1.2.3.4;proto=https");
  auto sent = Forward(std::move(fields), {Addr("203.0.113.9"), false, nullptr});
  EXPECT_EQ(sent.fields.count(bhttp::field::forwarded), 0u);
  EXPECT_EQ(sent.result.client, "203.0.113.9");  // and never believed for the client address
}

TEST(ForwardRequest, ForwardedFromTrustedPeersPassesUnchanged) {
  auto trusted = Trusted("10.0.0.0/8");
  bhttp::fields fields;
  fields.set(bhttp::field::forwarded, "for=198.51.100.7");
  auto sent = Forward(std::move(fields), {Addr("10.0.0.1"), false, &trusted});
  EXPECT_EQ(sent.fields[bhttp::field::forwarded], "for=198.51.100.7");
  EXPECT_EQ(sent.result.client, "10.0.0.1");  // Pier reads X-Forwarded-For only
}

TEST(ForwardRequest, LookalikeNamesPass) {
  bhttp::fields fields;
  fields.set("X-Forwarded-Fort", "1");
  fields.set("X-Real-IPs", "2");
  fields.set("Y-Forwarded-For", "3");
  auto sent = Forward(std::move(fields), {Addr("203.0.113.9"), false, nullptr});
  EXPECT_EQ(sent.fields["X-Forwarded-Fort"], "1");
  EXPECT_EQ(sent.fields["X-Real-IPs"], "2");
  EXPECT_EQ(sent.fields["Y-Forwarded-For"], "3");
}

}  // namespace
}  // namespace pier::dataplane::http
