#include "websocket/handshake.h"

#include <gtest/gtest.h>

#include <thread>

namespace pier::dataplane::websocket {
namespace {

namespace bhttp = boost::beast::http;

bhttp::request_header<> Upgrade(const char* connection, const char* upgrade) {
  bhttp::request_header<> request;
  request.method(bhttp::verb::get);
  request.version(11);
  request.target("/ws");
  if (connection) request.set(bhttp::field::connection, connection);
  if (upgrade) request.set(bhttp::field::upgrade, upgrade);
  return request;
}

TEST(Handshake, AcceptForTheRfcExample) {
  // RFC 6455 section 1.3.
  EXPECT_EQ(ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(AcceptMatches("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
}

TEST(Handshake, EachKeyGetsItsOwnAcceptOnEveryThread) {
  // The digest context is kept per thread and reused: one hash must not leak into the next.
  auto check = [] {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(ComputeAccept("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
      EXPECT_EQ(ComputeAccept("AQIDBAUGBwgJCgsMDQ4PEA=="), "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
    }
  };
  check();
  std::thread other(check);
  other.join();
}

TEST(Handshake, WrongOrMissingAcceptIsRejected) {
  EXPECT_FALSE(AcceptMatches("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOp="));
  EXPECT_FALSE(AcceptMatches("dGhlIHNhbXBsZSBub25jZQ==", ""));
  EXPECT_FALSE(AcceptMatches("", ComputeAccept("")));
}

TEST(Handshake, DetectsUpgradeCaseInsensitively) {
  EXPECT_TRUE(IsUpgradeRequest(Upgrade("Upgrade", "websocket")));
  EXPECT_TRUE(IsUpgradeRequest(Upgrade("keep-alive, UPGRADE", "WebSocket")));
  EXPECT_TRUE(IsUpgradeRequest(Upgrade("upgrade", "foo, websocket")));
}

TEST(Handshake, RejectsWhatIsNotAWebSocketUpgrade) {
  EXPECT_FALSE(IsUpgradeRequest(Upgrade(nullptr, "websocket")));
  EXPECT_FALSE(IsUpgradeRequest(Upgrade("Upgrade", nullptr)));
  EXPECT_FALSE(IsUpgradeRequest(Upgrade("Upgrade", "h2c")));
  EXPECT_FALSE(IsUpgradeRequest(Upgrade("keep-alive", "websocket")));
  auto post = Upgrade("Upgrade", "websocket");
  post.method(bhttp::verb::post);
  EXPECT_FALSE(IsUpgradeRequest(post));
  auto http10 = Upgrade("Upgrade", "websocket");
  http10.version(10);
  EXPECT_FALSE(IsUpgradeRequest(http10));
}

}  // namespace
}  // namespace pier::dataplane::websocket
