#include "http/access_log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pier::dataplane::http {
namespace {

TEST(AccessLog, IsOneValidJsonObject) {
  AccessRecord record;
  record.start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  record.client = "203.0.113.9";
  record.method = "GET";
  record.host = "evil\"host\n";
  record.path = "/a\\b";
  record.status = 502;
  record.upstream = "127.0.0.1:9000";
  record.bytes_in = 10;
  record.bytes_out = 20;
  record.duration_ms = 1.5;
  record.route = "default/app/0/0";
  record.request_id = "abc";
  auto line = FormatAccessRecord(record);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["ts"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(json["host"], "evil\"host\n");
  EXPECT_EQ(json["path"], "/a\\b");
  EXPECT_EQ(json["status"], 502);
  EXPECT_EQ(json["bytes_out"], 20);
  EXPECT_EQ(json["type"], "http");
  EXPECT_FALSE(json.contains("close_reason"));
}

TEST(AccessLog, TheUserIsNamedOnlyWhenBasicAuthenticationLetOneIn) {
  AccessRecord record;
  EXPECT_FALSE(nlohmann::json::parse(FormatAccessRecord(record)).contains("user"));
  record.user = "ali\"ce";  // an htpasswd user name may hold a quote
  EXPECT_EQ(nlohmann::json::parse(FormatAccessRecord(record))["user"], "ali\"ce");
  record.kind = AccessRecord::Kind::kWebSocket;
  EXPECT_EQ(nlohmann::json::parse(FormatAccessRecord(record))["user"], "ali\"ce");
}

TEST(AccessLog, EveryByteThatNeedsItIsEscaped) {
  AccessRecord record;
  std::string all;
  for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
  record.path = all;
  record.host = "plain";
  auto line = FormatAccessRecord(record);
  for (int c = 0; c < 0x20; ++c) EXPECT_EQ(line.find(static_cast<char>(c)), std::string::npos) << c;
  EXPECT_EQ(line.find('\x7f'), std::string::npos);
  EXPECT_NE(line.find("\\u001f"), std::string::npos);
  EXPECT_NE(line.find("\\u007f"), std::string::npos);
  // Bytes from 0x80 up are passed through as they are; the JSON parser takes the ASCII part.
  all.resize(0x7f);
  record.path = all;
  EXPECT_EQ(nlohmann::json::parse(FormatAccessRecord(record))["path"], all);
}

TEST(AccessLog, DurationHasThreeDecimals) {
  AccessRecord record;
  for (auto [ms, expected] : {std::pair{0.0, "0.000"}, std::pair{1.5, "1.500"}, std::pair{0.0004, "0.000"},
                              std::pair{0.0006, "0.001"}, std::pair{12.3456, "12.346"}, std::pair{59999.9999, "60000.000"},
                              std::pair{-1.0, "0.000"}}) {
    record.duration_ms = ms;
    auto line = FormatAccessRecord(record);
    EXPECT_NE(line.find(std::string("\"duration_ms\":") + expected + ","), std::string::npos) << ms << ": " << line;
  }
}

TEST(AccessLog, EachLineHasItsOwnSecond) {
  // The formatted second is cached per thread: a new second, or an older one, must not reuse it.
  AccessRecord record;
  for (auto [ms, expected] : {std::pair{1700000000123LL, "2023-11-14T22:13:20.123Z"},
                              std::pair{1700000000999LL, "2023-11-14T22:13:20.999Z"},
                              std::pair{1700000001000LL, "2023-11-14T22:13:21.000Z"},
                              std::pair{1600000000000LL, "2020-09-13T12:26:40.000Z"}}) {
    record.start = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
    EXPECT_EQ(nlohmann::json::parse(FormatAccessRecord(record))["ts"], expected);
  }
}

TEST(AccessLog, TunnelsCarryTheCloseReason) {
  AccessRecord record;
  record.kind = AccessRecord::Kind::kWebSocket;
  record.status = 101;
  record.close_reason = "idle timeout";
  auto json = nlohmann::json::parse(FormatAccessRecord(record));
  EXPECT_EQ(json["type"], "websocket");
  EXPECT_EQ(json["close_reason"], "idle timeout");
}

TEST(AccessLog, PassthroughConnectionsCarryTheCloseReasonAndNoMessageCounts) {
  AccessRecord record;
  record.kind = AccessRecord::Kind::kTlsPassthrough;
  record.host = "argocd.example.com";
  record.upstream = "10.0.0.7:443";
  record.bytes_in = 517;
  record.close_reason = "connect failed";
  auto json = nlohmann::json::parse(FormatAccessRecord(record));
  EXPECT_EQ(json["type"], "tls-passthrough");
  EXPECT_EQ(json["close_reason"], "connect failed");
  EXPECT_EQ(json["host"], "argocd.example.com");
  EXPECT_EQ(json["method"], "");
  EXPECT_EQ(json["status"], 0);
  EXPECT_EQ(json["bytes_in"], 517);
  EXPECT_FALSE(json.contains("messages_in"));
  EXPECT_FALSE(json.contains("close_initiator"));
}

}  // namespace
}  // namespace pier::dataplane::http
