#include "upstream/request_keys.h"

#include <gtest/gtest.h>

namespace pier::dataplane::upstream {
namespace {

namespace bhttp = boost::beast::http;

pier::v1::Route HashingOn(pier::v1::HashKey::Source source, std::string name = "") {
  pier::v1::Route route;
  route.mutable_load_balancing()->mutable_hash_by()->set_source(source);
  route.mutable_load_balancing()->mutable_hash_by()->set_name(std::move(name));
  return route;
}

TEST(ReadRequestKeys, RemoteAddrIsTheComputedClientAddress) {
  bhttp::fields fields;
  fields.set("X-Forwarded-For", "203.0.113.9");
  auto keys = ReadRequestKeys(HashingOn(pier::v1::HashKey::REMOTE_ADDR), fields, "/", "198.51.100.7");
  EXPECT_EQ(keys.hash_key, "198.51.100.7");
  EXPECT_FALSE(keys.affinity_token);
}

TEST(ReadRequestKeys, HeaderValuesAreJoined) {
  bhttp::fields fields;
  fields.insert("X-User", "alice");
  fields.insert("x-user", "bob");
  EXPECT_EQ(ReadRequestKeys(HashingOn(pier::v1::HashKey::HEADER, "x-user"), fields, "/", "c").hash_key, "alice,bob");
  EXPECT_FALSE(ReadRequestKeys(HashingOn(pier::v1::HashKey::HEADER, "x-other"), fields, "/", "c").hash_key);
}

TEST(ReadRequestKeys, CookieFromAnyCookieLine) {
  bhttp::fields fields;
  fields.insert(bhttp::field::cookie, "a=1");
  fields.insert(bhttp::field::cookie, "session=s3; b=2");
  EXPECT_EQ(ReadRequestKeys(HashingOn(pier::v1::HashKey::COOKIE, "session"), fields, "/", "c").hash_key, "s3");
  EXPECT_FALSE(ReadRequestKeys(HashingOn(pier::v1::HashKey::COOKIE, "other"), fields, "/", "c").hash_key);
}

TEST(ReadRequestKeys, QueryArgument) {
  bhttp::fields fields;
  auto route = HashingOn(pier::v1::HashKey::QUERY_ARG, "room");
  EXPECT_EQ(ReadRequestKeys(route, fields, "/ws?user=1&room=lobby", "c").hash_key, "lobby");
  EXPECT_FALSE(ReadRequestKeys(route, fields, "/ws?user=1", "c").hash_key);
}

TEST(ReadRequestKeys, NoHashingNoKey) {
  bhttp::fields fields;
  EXPECT_FALSE(ReadRequestKeys(pier::v1::Route(), fields, "/", "1.2.3.4").hash_key);
}

TEST(ReadRequestKeys, AffinityCookieOnlyWithCookieAffinity) {
  bhttp::fields fields;
  fields.set(bhttp::field::cookie, "theme=dark; PIER_AFFINITY=0123456789abcdef");
  pier::v1::Route route;
  route.mutable_affinity()->set_cookie_name("PIER_AFFINITY");
  EXPECT_FALSE(ReadRequestKeys(route, fields, "/", "c").affinity_token);
  route.mutable_affinity()->set_mode(pier::v1::Affinity::COOKIE_BALANCED);
  EXPECT_EQ(ReadRequestKeys(route, fields, "/", "c").affinity_token, "0123456789abcdef");
  route.mutable_affinity()->set_cookie_name("OTHER");
  EXPECT_FALSE(ReadRequestKeys(route, fields, "/", "c").affinity_token);
}

TEST(FindQueryArg, RawValues) {
  EXPECT_EQ(FindQueryArg("/p?a=1&b=2", "b"), "2");
  EXPECT_EQ(FindQueryArg("/p?a=1&b=x%20y", "b"), "x%20y");
  EXPECT_EQ(FindQueryArg("/p?a&b=2", "a"), "");
  EXPECT_EQ(FindQueryArg("/p?a=&b=2", "a"), "");
  EXPECT_EQ(FindQueryArg("/p?a=1#b=2", "a"), "1");
  EXPECT_FALSE(FindQueryArg("/p?a=1#b=2", "b"));
  EXPECT_FALSE(FindQueryArg("/p?ab=1", "a"));
  EXPECT_FALSE(FindQueryArg("/p", "a"));
  EXPECT_EQ(FindQueryArg("/p?a=1&a=2", "a"), "1");
}

}  // namespace
}  // namespace pier::dataplane::upstream
