// The hand-written heads must be the bytes Beast's serializer writes for the same message, and
// the body framing must parse back (by Beast's parser) to the bytes that went in.
#include "http/message_writer.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace pier::dataplane::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

template <bool IsRequest>
std::string BeastHead(const bhttp::message<IsRequest, bhttp::empty_body>& message) {
  std::ostringstream out;
  out << message.base();
  return out.str();
}

std::string Join(const BodyFramer::Buffers& buffers) {
  std::string out;
  for (const auto& buffer : buffers) out.append(static_cast<const char*>(buffer.data()), buffer.size());
  return out;
}

TEST(MessageWriter, RequestHeadIsBeastsBytes) {
  bhttp::request<bhttp::empty_body> request{bhttp::verb::post, "/a/b?c=d%20e", 11};
  request.set(bhttp::field::host, "app.example.test:8080");
  request.insert("X-Custom", "one");
  request.insert("x-custom", "two");
  request.set(bhttp::field::content_length, "12");
  request.insert("X-Empty", "");
  std::string ours;
  AppendHead(request.base(), ours);
  EXPECT_EQ(ours, BeastHead(request));

  bhttp::request<bhttp::empty_body> unknown;
  unknown.method_string("PURGE");
  unknown.target("*");
  unknown.version(10);
  ours.clear();
  AppendHead(unknown.base(), ours);
  EXPECT_EQ(ours, BeastHead(unknown));
  EXPECT_EQ(ours, "PURGE * HTTP/1.0\r\n\r\n");
}

TEST(MessageWriter, ResponseHeadKeepsTheReasonOrUsesTheStandardOne) {
  bhttp::response<bhttp::empty_body> response{bhttp::status::not_found, 11};
  response.set(bhttp::field::content_type, "text/plain");
  response.insert(bhttp::field::set_cookie, "a=1");
  response.insert(bhttp::field::set_cookie, "b=2");
  std::string ours;
  AppendHead(response.base(), ours);
  EXPECT_EQ(ours, BeastHead(response));
  EXPECT_EQ(ours.substr(0, 24), "HTTP/1.1 404 Not Found\r\n");

  response.reason("Nowhere To Be Seen");
  ours.clear();
  AppendHead(response.base(), ours);
  EXPECT_EQ(ours, BeastHead(response));

  bhttp::response<bhttp::empty_body> odd;
  odd.result(599);
  odd.version(11);
  ours.clear();
  AppendHead(odd.base(), ours);
  EXPECT_EQ(ours, BeastHead(odd));
}

TEST(MessageWriter, ResponseHeadWithConnectionMatchesBeastsWithTheFieldSet) {
  for (std::string_view connection : {"keep-alive", "close"}) {
    bhttp::response<bhttp::empty_body> response{bhttp::status::ok, 11};
    response.set(bhttp::field::content_type, "text/plain");
    response.set(bhttp::field::content_length, "5");
    std::string ours;
    AppendHead(response.base(), connection, ours);
    response.set(bhttp::field::connection, connection);
    EXPECT_EQ(ours, BeastHead(response));
  }
}

TEST(MessageWriter, SwitchingProtocolsHeadMatchesBeastsWithTheFieldsSet) {
  bhttp::response<bhttp::empty_body> response{bhttp::status::switching_protocols, 11};
  response.set(bhttp::field::sec_websocket_accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  response.set(bhttp::field::set_cookie, "s=1");
  std::string ours;
  AppendHead(response.base(), "Upgrade", "websocket", ours);
  response.set(bhttp::field::connection, "Upgrade");
  response.set(bhttp::field::upgrade, "websocket");
  EXPECT_EQ(ours, BeastHead(response));
}

TEST(MessageWriter, ContentLengthNormalisedOnlyWhenItIsNotAlready) {
  bhttp::fields plain;
  plain.set(bhttp::field::content_type, "text/plain");
  plain.set(bhttp::field::content_length, "1234");
  plain.set(bhttp::field::server, "x");
  const char* before = plain[bhttp::field::content_length].data();
  NormaliseContentLength(plain, 1234);
  EXPECT_EQ(plain[bhttp::field::content_length], "1234");
  EXPECT_EQ(plain[bhttp::field::content_length].data(), before);  // the same field, untouched
  EXPECT_EQ(std::distance(plain.begin(), plain.end()), 3);

  bhttp::fields padded;
  padded.set(bhttp::field::content_length, "007");
  NormaliseContentLength(padded, 7);
  EXPECT_EQ(padded[bhttp::field::content_length], "7");

  bhttp::fields twice;
  twice.insert(bhttp::field::content_length, "0");
  twice.insert(bhttp::field::content_length, "0");
  NormaliseContentLength(twice, 0);
  EXPECT_EQ(twice.count(bhttp::field::content_length), 1u);
  EXPECT_EQ(twice[bhttp::field::content_length], "0");

  bhttp::fields none;
  NormaliseContentLength(none, 18446744073709551615ull);
  EXPECT_EQ(none[bhttp::field::content_length], "18446744073709551615");
}

TEST(MessageWriter, PlainBodyGoesAsItIs) {
  BodyFramer framer;
  framer.Reset(false);
  std::string data = "hello";
  EXPECT_EQ(Join(framer.Frame("HEAD\r\n\r\n", data.data(), data.size(), false)), "HEAD\r\n\r\nhello");
  EXPECT_EQ(Join(framer.Frame({}, data.data(), data.size(), true)), "hello");
  EXPECT_EQ(Join(framer.Frame({}, nullptr, 0, true)), "");
}

TEST(MessageWriter, ChunkedBodyParsesBackWhole) {
  bhttp::response<bhttp::empty_body> response{bhttp::status::ok, 11};
  response.chunked(true);
  std::string head;
  AppendHead(response.base(), head);

  BodyFramer framer;
  framer.Reset(true);
  std::string wire;
  std::string expected;
  bool first = true;
  // Sizes across hex digit counts, and an empty piece in the middle (no chunk for it).
  for (std::size_t size : {1u, 15u, 16u, 255u, 0u, 4096u, 65537u}) {
    std::string piece(size, static_cast<char>('a' + size % 26));
    expected += piece;
    wire += Join(framer.Frame(first ? std::string_view(head) : std::string_view(), piece.data(), size, false));
    first = false;
  }
  wire += Join(framer.Frame({}, nullptr, 0, true));
  EXPECT_EQ(wire.substr(wire.size() - 5), "0\r\n\r\n");

  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1 << 20);
  boost::system::error_code ec;
  std::size_t used = parser.put(asio::buffer(wire), ec);
  while (!ec && !parser.is_done() && used < wire.size()) {
    used += parser.put(asio::buffer(wire.data() + used, wire.size() - used), ec);
  }
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(used, wire.size());
  EXPECT_EQ(parser.get().body(), expected);
}

TEST(MessageWriter, LastPieceOfAChunkedBodyCarriesTheEnd) {
  BodyFramer framer;
  framer.Reset(true);
  std::string data = "0123456789abcdefX";  // 17 bytes: "11"
  EXPECT_EQ(Join(framer.Frame({}, data.data(), data.size(), true)), "11\r\n0123456789abcdefX\r\n0\r\n\r\n");
}

}  // namespace
}  // namespace pier::dataplane::http
