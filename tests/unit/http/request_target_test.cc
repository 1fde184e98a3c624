#include "http/request_target.h"

#include <gtest/gtest.h>

namespace pier::dataplane::http {
namespace {

TEST(RequestTarget, OriginFormIsKept) {
  auto target = SplitRequestTarget("/a/b?x=1");
  EXPECT_EQ(target.authority, "");
  EXPECT_EQ(target.origin, "/a/b?x=1");
  EXPECT_EQ(target.path, "/a/b");
}

TEST(RequestTarget, AbsoluteFormNamesTheHostAndBecomesOriginForm) {
  auto target = SplitRequestTarget("HTTP://A.example:8080/p/q?x=1");
  EXPECT_EQ(target.authority, "A.example:8080");
  EXPECT_EQ(target.origin, "/p/q?x=1");
  EXPECT_EQ(target.path, "/p/q");
}

TEST(RequestTarget, AbsoluteFormWithoutPath) {
  EXPECT_EQ(SplitRequestTarget("https://a.example").origin, "/");
  auto query_only = SplitRequestTarget("http://a.example?x");
  EXPECT_EQ(query_only.origin, "/?x");
  EXPECT_EQ(query_only.path, "/");
}

TEST(RequestTarget, AsteriskForm) {
  auto target = SplitRequestTarget("*");
  EXPECT_EQ(target.authority, "");
  EXPECT_EQ(target.path, "*");
}

}  // namespace
}  // namespace pier::dataplane::http
