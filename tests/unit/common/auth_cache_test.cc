#include "pier/common/auth_cache.h"

#include <gtest/gtest.h>

namespace pier::auth_cache {
namespace {

using std::chrono::seconds;

TEST(ParseKey, VariablesAndText) {
  auto key = ParseKey("u=$remote_user;${http_authorization}/$cookie__oauth2_proxy$http_X_Api_Key$host");
  ASSERT_TRUE(key) << key.error();
  ASSERT_EQ(key->pieces.size(), 5u);
  EXPECT_EQ(key->pieces[0].literal, "u=");
  EXPECT_EQ(key->pieces[0].source, Source::kRemoteUser);
  EXPECT_EQ(key->pieces[1].literal, ";");
  EXPECT_EQ(key->pieces[1].source, Source::kHeader);
  EXPECT_EQ(key->pieces[1].name, "authorization");
  EXPECT_EQ(key->pieces[2].literal, "/");
  EXPECT_EQ(key->pieces[2].source, Source::kCookie);
  EXPECT_EQ(key->pieces[2].name, "_oauth2_proxy");  // cookie names keep their case and underscores
  EXPECT_EQ(key->pieces[3].source, Source::kHeader);
  EXPECT_EQ(key->pieces[3].name, "x-api-key");  // header names: lowercase, '_' is '-'
  EXPECT_EQ(key->pieces[4].source, Source::kHost);
  auto trailing = ParseKey("$remote_addr:x");
  ASSERT_TRUE(trailing);
  ASSERT_EQ(trailing->pieces.size(), 2u);
  EXPECT_EQ(trailing->pieces[1].literal, ":x");
  EXPECT_FALSE(trailing->pieces[1].source);
  for (const char* name : {"$request_uri", "$scheme", "$remote_addr"}) EXPECT_TRUE(ParseKey(name)) << name;
}

TEST(ParseKey, RefusesWhatCouldNotBeAKey) {
  for (const char* bad : {"", "constant", "$", "$ x", "${http_a", "$args", "$http_", "$cookie_", "$upstream_addr",
                          "$remote_user\n", "$remote_user x"}) {
    EXPECT_FALSE(ParseKey(bad)) << bad;
  }
  EXPECT_NE(ParseKey("fixed").error().find("every client would share"), std::string::npos);
  EXPECT_FALSE(ParseKey("$host" + std::string(1100, 'a')));
}

TEST(ParseDurations, NginxProxyCacheValid) {
  auto rules = ParseDurations("200 202 401 5m");
  ASSERT_TRUE(rules) << rules.error();
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].statuses, (std::vector<unsigned>{200, 202, 401}));
  EXPECT_EQ((*rules)[0].ttl, seconds(300));
  auto several = ParseDurations(" 200 10m , 401 30s,any 1h");
  ASSERT_TRUE(several) << several.error();
  EXPECT_EQ(TtlFor(*several, 200), seconds(600));
  EXPECT_EQ(TtlFor(*several, 401), seconds(30));
  EXPECT_EQ(TtlFor(*several, 403), seconds(3600));
  // A time alone: 200, 301 and 302, as nginx.
  auto alone = ParseDurations("90");
  ASSERT_TRUE(alone);
  EXPECT_EQ(TtlFor(*alone, 302), seconds(90));
  EXPECT_FALSE(TtlFor(*alone, 401));
  // The first rule that names the status or says any decides, in order.
  auto ordered = ParseDurations("any 1m, 200 5m");
  ASSERT_TRUE(ordered);
  EXPECT_EQ(TtlFor(*ordered, 200), seconds(60));
}

TEST(ParseDurations, RefusesBadEntries) {
  for (const char* bad : {"", "200 abc", "200 0s", "200 500ms", "99 5m", "600 5m", "ok 5m", "200 5m,",
                          ",200 5m", "200 721h", "200 -5m"}) {
    EXPECT_FALSE(ParseDurations(bad)) << bad;
  }
  EXPECT_TRUE(ParseDurations("200 720h"));
  EXPECT_EQ(TtlFor(*ParseDurations("200"), 200), seconds(200));  // as nginx: a bare number is the time
}

}  // namespace
}  // namespace pier::auth_cache
