#include "kube/watch_event.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pier::kube {
namespace {

std::vector<std::string> FeedAll(LineSplitter& splitter, const std::vector<std::string>& chunks) {
  std::vector<std::string> lines;
  for (const auto& chunk : chunks) {
    auto fed = splitter.Feed(chunk, [&](std::string_view line) {
      lines.emplace_back(line);
      return true;
    });
    EXPECT_TRUE(fed.ok()) << fed.error();
  }
  return lines;
}

TEST(LineSplitter, ReassemblesLinesSplitAnywhere) {
  const std::string stream = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
  // Every way of cutting the stream in two gives the same three lines.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    LineSplitter splitter;
    auto lines = FeedAll(splitter, {stream.substr(0, cut), stream.substr(cut)});
    EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"})) << "cut at " << cut;
    EXPECT_TRUE(splitter.Pending().empty());
  }
}

TEST(LineSplitter, ByteAtATime) {
  LineSplitter splitter;
  std::vector<std::string> chunks;
  for (char c : std::string("first\r\n\nsecond\n  \nthird")) chunks.emplace_back(1, c);
  auto lines = FeedAll(splitter, chunks);
  EXPECT_EQ(lines, (std::vector<std::string>{"first", "second"}));  // CR stripped, blank lines skipped
  EXPECT_EQ(splitter.Pending(), "third");                           // unfinished: kept
}

TEST(LineSplitter, LargeEventAcrossManyChunks) {
  const std::string big = "{\"data\":\"" + std::string(3 * 1024 * 1024, 'x') + "\"}";
  LineSplitter splitter;
  std::vector<std::string> chunks;
  for (size_t i = 0; i < big.size(); i += 65536) chunks.push_back(big.substr(i, 65536));
  chunks.back() += "\n{}\n";
  auto lines = FeedAll(splitter, chunks);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], big);
  EXPECT_EQ(lines[1], "{}");
}

TEST(LineSplitter, OverlongLineIsAnError) {
  LineSplitter splitter(16);
  auto ok = splitter.Feed("0123456789", [](std::string_view) { return true; });
  EXPECT_TRUE(ok.ok());
  auto too_long = splitter.Feed("0123456789\n", [](std::string_view) { return true; });
  EXPECT_FALSE(too_long.ok());
  LineSplitter whole(4);
  EXPECT_FALSE(whole.Feed("12345\n", [](std::string_view) { return true; }).ok());
}

TEST(LineSplitter, HandlerCanStop) {
  LineSplitter splitter;
  int calls = 0;
  auto fed = splitter.Feed("a\nb\nc\n", [&](std::string_view) { return ++calls < 2; });
  ASSERT_TRUE(fed.ok());
  EXPECT_FALSE(*fed);
  EXPECT_EQ(calls, 2);
}

TEST(ParseWatchEvent, AddedModifiedDeleted) {
  auto added = ParseWatchEvent(
      R"({"type":"ADDED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"a","namespace":"n","resourceVersion":"12"}}})");
  ASSERT_TRUE(added.ok()) << added.error();
  EXPECT_EQ(added->type, WatchEventType::kAdded);
  EXPECT_EQ(added->object["kind"], "Service");
  EXPECT_EQ(ResourceVersionOf(added->object), "12");

  auto modified = ParseWatchEvent(R"({"type":"MODIFIED","object":{"metadata":{"name":"a"}}})");
  ASSERT_TRUE(modified.ok());
  EXPECT_EQ(modified->type, WatchEventType::kModified);
  EXPECT_EQ(ResourceVersionOf(modified->object), "");

  auto deleted = ParseWatchEvent(R"({"type":"DELETED","object":{"metadata":{"name":"a"}}})");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->type, WatchEventType::kDeleted);
}

TEST(ParseWatchEvent, Bookmark) {
  auto bookmark = ParseWatchEvent(
      R"({"type":"BOOKMARK","object":{"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"resourceVersion":"4711","annotations":{"k8s.io/initial-events-end":"true"}}}})");
  ASSERT_TRUE(bookmark.ok()) << bookmark.error();
  EXPECT_EQ(bookmark->type, WatchEventType::kBookmark);
  EXPECT_EQ(ResourceVersionOf(bookmark->object), "4711");
}

TEST(ParseWatchEvent, Error410IsGone) {
  // What kube-apiserver sends when a watch asks for a compacted resourceVersion.
  auto event = ParseWatchEvent(
      R"j({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 198 (412)","reason":"Expired","code":410}})j");
  ASSERT_TRUE(event.ok()) << event.error();
  EXPECT_EQ(event->type, WatchEventType::kError);
  EXPECT_TRUE(event->error.IsGone());
  EXPECT_EQ(event->error.http_status, 410);
  EXPECT_EQ(event->error.message, "too old resource version: 198 (412)");
}

TEST(ParseWatchEvent, OtherErrorsAreNotGone) {
  auto event = ParseWatchEvent(
      R"({"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"etcd down","reason":"InternalError","code":500}})");
  ASSERT_TRUE(event.ok());
  EXPECT_FALSE(event->error.IsGone());
  EXPECT_EQ(event->error.http_status, 500);
}

TEST(ParseWatchEvent, RejectsMalformedEvents) {
  EXPECT_FALSE(ParseWatchEvent("{not json").ok());
  EXPECT_FALSE(ParseWatchEvent("[]").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"object":{}})").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"ADDED"})").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"ADDED","object":"x"})").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"RENAMED","object":{}})").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"type":7,"object":{}})").ok());
}

TEST(WatchEventTypeName, WireNames) {
  EXPECT_STREQ(WatchEventTypeName(WatchEventType::kAdded), "ADDED");
  EXPECT_STREQ(WatchEventTypeName(WatchEventType::kBookmark), "BOOKMARK");
  EXPECT_STREQ(WatchEventTypeName(WatchEventType::kError), "ERROR");
}

}  // namespace
}  // namespace pier::kube
