#include "http/forwarded.h"

#include <gtest/gtest.h>

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

TEST(ApplyForwardedHeaders, AppendsPeerAndSetsTheFamily) {
  auto trusted = Trusted("10.0.0.0/8");
  bhttp::fields fields;
  fields.set(bhttp::field::host, "app.example.com:8080");
  fields.insert("X-Forwarded-For", "198.51.100.7");
  fields.insert("X-Forwarded-For", "10.1.1.1");
  fields.set("X-Forwarded-Proto", "https");  // a client's claim is replaced
  auto result = ApplyForwardedHeaders(fields, {Addr("10.0.0.1"), false, &trusted});
  EXPECT_EQ(result.client, "198.51.100.7");
  EXPECT_EQ(fields["X-Forwarded-For"], "198.51.100.7,10.1.1.1, 10.0.0.1");
  EXPECT_EQ(fields.count("X-Forwarded-For"), 1u);
  EXPECT_EQ(fields["X-Real-IP"], "198.51.100.7");
  EXPECT_EQ(fields["X-Forwarded-Proto"], "http");
  EXPECT_EQ(fields["X-Forwarded-Host"], "app.example.com:8080");
  EXPECT_EQ(fields[bhttp::field::host], "app.example.com:8080");
  EXPECT_TRUE(IsValidRequestId(fields["X-Request-ID"]));
  EXPECT_EQ(fields["X-Request-ID"], result.request_id);
}

TEST(ApplyForwardedHeaders, UsesThePeerTextTheConnectionFormatted) {
  auto trusted = Trusted("10.0.0.0/8");
  bhttp::fields fields;
  fields.set("X-Forwarded-For", "198.51.100.7");
  // From a trusted peer the client is the forwarded hop, not the peer's own text.
  auto forwarded = ApplyForwardedHeaders(fields, {Addr("10.0.0.1"), false, &trusted}, "10.0.0.1");
  EXPECT_EQ(forwarded.client, "198.51.100.7");
  EXPECT_EQ(fields["X-Forwarded-For"], "198.51.100.7, 10.0.0.1");
  bhttp::fields direct;
  auto peer = ApplyForwardedHeaders(direct, {Addr("::ffff:203.0.113.9"), false, nullptr}, "203.0.113.9");
  EXPECT_EQ(peer.client, "203.0.113.9");
  EXPECT_EQ(direct["X-Real-IP"], "203.0.113.9");
  EXPECT_EQ(direct["X-Forwarded-For"], "203.0.113.9");
}

TEST(ApplyForwardedHeaders, UntrustedPeerStillAppends) {
  bhttp::fields fields;
  fields.set("X-Forwarded-For", "6.6.6.6");
  auto result = ApplyForwardedHeaders(fields, {Addr("203.0.113.9"), true, nullptr});
  EXPECT_EQ(result.client, "203.0.113.9");
  EXPECT_EQ(fields["X-Forwarded-For"], "6.6.6.6, 203.0.113.9");
  EXPECT_EQ(fields["X-Real-IP"], "203.0.113.9");
  EXPECT_EQ(fields["X-Forwarded-Proto"], "https");
}

TEST(ApplyForwardedHeaders, KeepsAValidRequestIdAndReplacesABadOne) {
  bhttp::fields good;
  good.set("X-Request-ID", "trace-123:abc");
  EXPECT_EQ(ApplyForwardedHeaders(good, {Addr("127.0.0.1"), false, nullptr}).request_id, "trace-123:abc");
  EXPECT_EQ(good["X-Request-ID"], "trace-123:abc");

  bhttp::fields bad;
  bad.set("X-Request-ID", "has space");
  auto id = ApplyForwardedHeaders(bad, {Addr("127.0.0.1"), false, nullptr}).request_id;
  EXPECT_NE(id, "has space");
  EXPECT_EQ(bad["X-Request-ID"], id);
  EXPECT_EQ(id.size(), 32u);
}

TEST(ApplyForwardedHeaders, ForwardedFromUntrustedPeersIsRemoved) {
  bhttp::fields fields;
  fields.set(bhttp::field::forwarded, "for=1.2.3.4;proto=https");
  auto result = ApplyForwardedHeaders(fields, {Addr("203.0.113.9"), false, nullptr});
  EXPECT_EQ(fields.count(bhttp::field::forwarded), 0u);
  EXPECT_EQ(result.client, "203.0.113.9");  // and never believed for the client address
}

TEST(ApplyForwardedHeaders, ForwardedFromTrustedPeersPassesUnchanged) {
  auto trusted = Trusted("10.0.0.0/8");
  bhttp::fields fields;
  fields.set(bhttp::field::forwarded, "for=198.51.100.7");
  auto result = ApplyForwardedHeaders(fields, {Addr("10.0.0.1"), false, &trusted});
  EXPECT_EQ(fields[bhttp::field::forwarded], "for=198.51.100.7");
  EXPECT_EQ(result.client, "10.0.0.1");  // Pier reads X-Forwarded-For only
}

}  // namespace
}  // namespace pier::dataplane::http
