#include "http/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace pier::dataplane::http {
namespace {

namespace asio = boost::asio;
using Status = ProxyHeader::Status;

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// A version 2 header: command (0 LOCAL, 1 PROXY), family/transport byte, then `payload`.
std::string V2(unsigned command, unsigned char family, const std::string& payload) {
  std::string header = kV2Signature;
  header.push_back(static_cast<char>(0x20 | command));
  header.push_back(static_cast<char>(family));
  header.push_back(static_cast<char>(payload.size() >> 8));
  header.push_back(static_cast<char>(payload.size() & 0xff));
  return header + payload;
}

std::string Bytes(std::initializer_list<unsigned> values) {
  std::string out;
  for (unsigned v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(ProxyProtocol, Version1Tcp4NamesTheSourceAndStopsAtTheLineEnd) {
  const std::string line = "PROXY TCP4 198.51.100.7 10.0.0.5 56324 443\r\n";
  const auto header = ParseProxyHeader(line + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(header.status, Status::kDone);
  EXPECT_EQ(header.length, line.size());
  EXPECT_EQ(header.source, asio::ip::make_address("198.51.100.7"));
}

TEST(ProxyProtocol, Version1Tcp6AndUnknown) {
  const auto v6 = ParseProxyHeader("PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n");
  ASSERT_EQ(v6.status, Status::kDone);
  EXPECT_EQ(v6.source, asio::ip::make_address("2001:db8::1"));
  const auto unknown = ParseProxyHeader("PROXY UNKNOWN\r\n\x16\x03\x01");
  ASSERT_EQ(unknown.status, Status::kDone);
  EXPECT_EQ(unknown.length, 15u);
  EXPECT_FALSE(unknown.source);
  EXPECT_EQ(ParseProxyHeader("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n").status, Status::kDone);
  EXPECT_EQ(ParseProxyHeader("PROXY UNKNOWN anything at all, ignored\r\n").status, Status::kDone);
}

TEST(ProxyProtocol, Version1PiecesAskForMore) {
  for (const char* piece : {"P", "PROX", "PROXY ", "PROXY TCP4 1.2.3.4", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r"}) {
    const auto header = ParseProxyHeader(piece);
    EXPECT_EQ(header.status, Status::kNeedMore) << piece;
    EXPECT_EQ(header.more, 1u) << piece;
  }
}

TEST(ProxyProtocol, Version1MalformedLinesAreRefused) {
  for (const char* bad : {
           "GET / HTTP/1.1\r\n",                                  // no header at all
           "PROXY\r\n",                                           // no protocol
           "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",                  // unknown protocol
           "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",                    // a port missing
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",                // a field too many
           "PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n",              // address of the other family
           "PROXY TCP6 1.2.3.4 2001:db8::2 1 2\r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",              // port out of range
           "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",                 // leading zero
           "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
           "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",                 // double space
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",                 // trailing space
           "PROXY TCP4 1.2.3.4\n5.6.7.8 1 2\r\n",                 // a bare LF
           "PROXY UNKNOWN \x9c\r\n",                             // not ASCII, even where ignored
       }) {
    EXPECT_EQ(ParseProxyHeader(bad).status, Status::kInvalid) << bad;
  }
  EXPECT_EQ(ParseProxyHeader("PROXY TCP4 1.2.3.4 " + std::string(100, '9')).status, Status::kInvalid)
      << "no line end within 107 bytes";
}

TEST(ProxyProtocol, Version2Tcp4AndTcp6NameTheSource) {
  const std::string v4 = V2(1, 0x11, Bytes({203, 0, 113, 9, 10, 0, 0, 5, 0xdb, 0xf4, 0x01, 0xbb}));
  const auto header = ParseProxyHeader(v4 + "\x16\x03\x01");  // a TLS record follows
  ASSERT_EQ(header.status, Status::kDone);
  EXPECT_EQ(header.length, v4.size());
  EXPECT_EQ(header.source, asio::ip::make_address("203.0.113.9"));

  std::string addresses(36, '\0');
  addresses[0] = '\x20';
  addresses[1] = '\x01';
  addresses[2] = '\x0d';
  addresses[3] = '\xb8';
  addresses[15] = '\x07';
  const auto v6 = ParseProxyHeader(V2(1, 0x21, addresses));
  ASSERT_EQ(v6.status, Status::kDone);
  EXPECT_EQ(v6.source, asio::ip::make_address("2001:db8::7"));
}

TEST(ProxyProtocol, Version2TlvsAreSkippedAndCounted) {
  // An AWS-style TLV after the addresses: part of the header, ignored.
  const std::string payload = Bytes({192, 0, 2, 1, 192, 0, 2, 2, 0, 80, 0, 80, 0xea, 0, 3}) + "vpc";
  const std::string header = V2(1, 0x11, payload);
  const auto parsed = ParseProxyHeader(header + "GET");
  ASSERT_EQ(parsed.status, Status::kDone);
  EXPECT_EQ(parsed.length, header.size());
  EXPECT_EQ(parsed.source, asio::ip::make_address("192.0.2.1"));
}

TEST(ProxyProtocol, Version2LocalAndOtherFamiliesKeepThePeer) {
  const auto local = ParseProxyHeader(V2(0, 0x00, ""));
  ASSERT_EQ(local.status, Status::kDone);
  EXPECT_EQ(local.length, 16u);
  EXPECT_FALSE(local.source);
  const auto local_with_addresses = ParseProxyHeader(V2(0, 0x11, std::string(12, '\1')));
  ASSERT_EQ(local_with_addresses.status, Status::kDone);
  EXPECT_FALSE(local_with_addresses.source);
  const auto udp = ParseProxyHeader(V2(1, 0x12, std::string(12, '\1')));
  ASSERT_EQ(udp.status, Status::kDone);
  EXPECT_FALSE(udp.source);
  const auto unix_socket = ParseProxyHeader(V2(1, 0x31, std::string(216, 'x')));
  ASSERT_EQ(unix_socket.status, Status::kDone);
  EXPECT_FALSE(unix_socket.source);
}

TEST(ProxyProtocol, Version2PiecesAskForExactlyWhatIsMissing) {
  const std::string header = V2(1, 0x11, std::string(12, '\1'));
  EXPECT_EQ(ParseProxyHeader(header.substr(0, 5)).more, 11u);
  EXPECT_EQ(ParseProxyHeader(header.substr(0, 12)).more, 4u);
  const auto fixed_part = ParseProxyHeader(header.substr(0, 16));
  EXPECT_EQ(fixed_part.status, Status::kNeedMore);
  EXPECT_EQ(fixed_part.more, 12u);
  EXPECT_EQ(ParseProxyHeader(header.substr(0, 20)).more, 8u);
}

TEST(ProxyProtocol, Version2MalformedHeadersAreRefused) {
  std::string wrong_version = V2(1, 0x11, std::string(12, '\1'));
  wrong_version[12] = '\x11';
  EXPECT_EQ(ParseProxyHeader(wrong_version).status, Status::kInvalid);
  EXPECT_EQ(ParseProxyHeader(V2(2, 0x11, std::string(12, '\1'))).status, Status::kInvalid) << "command 2";
  EXPECT_EQ(ParseProxyHeader(V2(1, 0x41, std::string(12, '\1'))).status, Status::kInvalid) << "family 4";
  EXPECT_EQ(ParseProxyHeader(V2(1, 0x13, std::string(12, '\1'))).status, Status::kInvalid) << "transport 3";
  EXPECT_EQ(ParseProxyHeader(V2(1, 0x11, std::string(8, '\1'))).status, Status::kInvalid) << "IPv4 without room";
  EXPECT_EQ(ParseProxyHeader(V2(1, 0x21, std::string(12, '\1'))).status, Status::kInvalid) << "IPv6 without room";
  const std::string huge = V2(1, 0x11, std::string(kMaxProxyHeaderBytes, '\1'));
  EXPECT_EQ(ParseProxyHeader(huge.substr(0, 16)).status, Status::kInvalid) << "longer than Pier accepts";
  std::string bad_signature = kV2Signature;
  bad_signature[7] = 'X';
  EXPECT_EQ(ParseProxyHeader(bad_signature).status, Status::kInvalid);
  EXPECT_EQ(ParseProxyHeader(std::string("\x16\x03\x01\x02\x00", 5)).status, Status::kInvalid) << "a bare TLS hello";
}

TEST(ProxyProtocol, EveryPrefixOfAValidHeaderAsksForMore) {
  const std::string headers[] = {"PROXY TCP4 198.51.100.7 10.0.0.5 56324 443\r\n",
                                 V2(1, 0x11, Bytes({1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2, 0xea, 0, 1}) + "x")};
  for (const std::string& header : headers) {
    for (std::size_t size = 0; size < header.size(); ++size) {
      const auto parsed = ParseProxyHeader(header.substr(0, size));
      EXPECT_EQ(parsed.status, Status::kNeedMore) << size;
      EXPECT_GE(parsed.more, 1u);
      EXPECT_LE(size + parsed.more, header.size()) << "asked past the header's end at " << size;
    }
    EXPECT_EQ(ParseProxyHeader(header).length, header.size());
  }
}

}  // namespace
}  // namespace pier::dataplane::http
