#include "http/hop_by_hop.h"

#include <gtest/gtest.h>

#include <string>

namespace pier::dataplane::http {
namespace {

namespace bhttp = boost::beast::http;

// "Name=value;" for every field, in order.
std::string Listed(const bhttp::fields& fields) {
  std::string out;
  for (const auto& field : fields) out += std::string(field.name_string()) + "=" + std::string(field.value()) + ";";
  return out;
}

TEST(HopByHop, RemovesTheFixedSet) {
  bhttp::fields fields;
  fields.set(bhttp::field::connection, "keep-alive");
  fields.set(bhttp::field::keep_alive, "timeout=5");
  fields.set(bhttp::field::proxy_connection, "keep-alive");
  fields.set(bhttp::field::te, "trailers");
  fields.set(bhttp::field::trailer, "Expires");
  fields.set(bhttp::field::transfer_encoding, "chunked");
  fields.set(bhttp::field::upgrade, "websocket");
  fields.set(bhttp::field::content_type, "text/plain");
  RemoveHopByHop(fields);
  EXPECT_EQ(std::distance(fields.begin(), fields.end()), 1);
  EXPECT_EQ(fields[bhttp::field::content_type], "text/plain");
}

TEST(HopByHop, RemovesRepeatsAnywhereAndKeepsTheOrderOfTheRest) {
  bhttp::fields fields;
  fields.insert(bhttp::field::transfer_encoding, "gzip");
  fields.insert("X-A", "1");
  fields.insert(bhttp::field::te, "trailers");
  fields.insert(bhttp::field::transfer_encoding, "chunked");
  fields.insert("X-B", "2");
  fields.insert(bhttp::field::keep_alive, "timeout=5");
  fields.insert("X-C", "3");
  fields.insert(bhttp::field::connection, "close");
  RemoveHopByHop(fields);
  EXPECT_EQ(Listed(fields), "X-A=1;X-B=2;X-C=3;");
}

TEST(HopByHop, RemovesFieldsNamedInEveryConnectionLine) {
  bhttp::fields fields;
  fields.insert(bhttp::field::connection, "X-Secret, close");
  fields.insert(bhttp::field::connection, "x-other");
  fields.set("X-Secret", "1");
  fields.set("X-Other", "2");
  fields.set("X-Kept", "3");
  RemoveHopByHop(fields);
  EXPECT_EQ(fields.count("X-Secret"), 0u);
  EXPECT_EQ(fields.count("X-Other"), 0u);
  EXPECT_EQ(fields.count(bhttp::field::connection), 0u);
  EXPECT_EQ(fields["X-Kept"], "3");
}

TEST(HopByHop, RemovesManyNamedFieldsWhereverTheyStand) {
  // More names than the collection holds inline, the first field right behind the Connection
  // line, and names of hop-by-hop fields (Connection itself among them) in the list.
  bhttp::fields fields;
  fields.insert(bhttp::field::connection, "X-1, x-2, X-3, Connection, X-4, te, X-5, X-6, upgrade");
  for (int i = 1; i <= 6; ++i) fields.insert("X-" + std::to_string(i), std::to_string(i));
  fields.insert("X-Kept", "7");
  fields.insert(bhttp::field::te, "trailers");
  RemoveHopByHop(fields);
  EXPECT_EQ(Listed(fields), "X-Kept=7;");
}

TEST(HopByHop, NeverRemovesHost) {
  bhttp::fields fields;
  fields.set(bhttp::field::host, "app.example.com");
  fields.set(bhttp::field::connection, "Host");
  RemoveHopByHop(fields);
  EXPECT_EQ(fields[bhttp::field::host], "app.example.com");
}

TEST(HopByHop, KeepsWebSocketHandshakeFields) {
  bhttp::fields fields;
  fields.set(bhttp::field::connection, "Upgrade");
  fields.set(bhttp::field::upgrade, "websocket");
  fields.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  fields.set(bhttp::field::sec_websocket_version, "13");
  RemoveHopByHop(fields);
  EXPECT_EQ(fields[bhttp::field::sec_websocket_key], "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(fields[bhttp::field::sec_websocket_version], "13");
  EXPECT_EQ(fields.count(bhttp::field::upgrade), 0u);
}

TEST(HasToken, MatchesCaseInsensitiveListItems) {
  EXPECT_TRUE(HasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(HasToken("UPGRADE", "upgrade"));
  EXPECT_FALSE(HasToken("upgraded", "upgrade"));
  EXPECT_FALSE(HasToken("", "upgrade"));
  EXPECT_TRUE(HasToken(" ,  100-continue ,", "100-continue"));
}

}  // namespace
}  // namespace pier::dataplane::http
