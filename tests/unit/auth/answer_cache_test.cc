#include "auth/answer_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace pier::dataplane::external_auth {
namespace {

using Clock = AnswerCache::Clock;

std::shared_ptr<const Settings> Cached(const std::string& duration) {
  pier::v1::ExternalAuth proto;
  proto.set_url("http://auth.example/check");
  proto.set_cache_key("$cookie_session");
  auto rules = auth_cache::ParseDurations(duration);
  EXPECT_TRUE(rules);
  for (const auto& rule : *rules) {
    auto& out = *proto.add_cache_rules();
    for (unsigned status : rule.statuses) out.add_statuses(status);
    out.set_any(rule.any);
    out.set_ttl_seconds(static_cast<uint32_t>(rule.ttl.count()));
  }
  auto settings = Settings::Compile(proto);
  EXPECT_TRUE(settings) << settings.error();
  return *settings;
}

Answer Allowed(unsigned status = 200) {
  Answer answer;
  answer.kind = Answer::Kind::kAllowed;
  answer.status = status;
  answer.headers = {{"x-auth-request-user", "alice"}};
  return answer;
}

TEST(KeepUntil, TheRuleOfTheStatus) {
  const auto settings = Cached("200 10m, 401 30s");
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(KeepUntil(*settings, Allowed(200), now), now + std::chrono::minutes(10));
  Answer refused;
  refused.kind = Answer::Kind::kUnauthorized;
  refused.status = 401;
  EXPECT_EQ(KeepUntil(*settings, refused, now), now + std::chrono::seconds(30));
  EXPECT_FALSE(KeepUntil(*settings, Allowed(202), now));  // no rule
}

TEST(KeepUntil, NeverAnAnswerSettingACookieOrWithoutAStatus) {
  const auto settings = Cached("any 10m");
  const Clock::time_point now = Clock::now();
  Answer with_cookie = Allowed();
  with_cookie.cookies = {"session=new"};
  EXPECT_FALSE(KeepUntil(*settings, with_cookie, now));
  Answer unreachable;  // the service did not answer: no status of its own
  unreachable.kind = Answer::Kind::kError;
  EXPECT_FALSE(KeepUntil(*settings, unreachable, now));
  pier::v1::ExternalAuth plain;
  plain.set_url("http://auth.example/check");
  EXPECT_FALSE(KeepUntil(**Settings::Compile(plain), Allowed(), now));  // no cache_key
}

TEST(KeepUntil, TheServicesCacheControlAsNginxReadsIt) {
  const auto settings = Cached("200 10m");
  const Clock::time_point now = Clock::now();
  auto with = [](std::initializer_list<std::string_view> values, unsigned status = 200) {
    Answer answer = Allowed(status);
    for (std::string_view value : values) ReadCacheControl(value, answer);
    return answer;
  };
  for (auto value : {"no-store", "No-Cache", "private, max-age=60", "max-age=0", " public , s-maxage=0, max-age=9"}) {
    EXPECT_FALSE(KeepUntil(*settings, with({value}), now)) << value;
  }
  // A positive max-age is the time, whatever the status; s-maxage wins over it.
  EXPECT_EQ(KeepUntil(*settings, with({"max-age=60"}, 403), now), now + std::chrono::seconds(60));
  EXPECT_EQ(KeepUntil(*settings, with({"max-age=60", "s-maxage=5"}), now), now + std::chrono::seconds(5));
  // What cannot be read is ignored: the rules decide.
  EXPECT_EQ(KeepUntil(*settings, with({"max-age=soon", "public"}), now), now + std::chrono::minutes(10));
  EXPECT_EQ(KeepUntil(*settings, with({"max-age=99999999999"}), now), now + std::chrono::hours(24 * 30));
}

TEST(ParseHttpDate, TheThreeFormsOfAnHttpDate) {
  constexpr int64_t kNov6 = 784111777;  // 1994-11-06T08:49:37Z
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kNov6);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), kNov6);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), kNov6);
  EXPECT_EQ(ParseHttpDate(" Thu, 01 Jan 2037 00:00:00 GMT "), 2114380800);
  for (auto bad : {"0", "-1", "", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
                   "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                   "Sun, 06 Nov 1960 08:49:37 GMT", "tomorrow"}) {
    EXPECT_FALSE(ParseHttpDate(bad)) << bad;
  }
}

TEST(KeepUntil, ExpiresXAccelExpiresAndVaryAsNginxReadsThem) {
  const auto settings = Cached("200 10m");
  const Clock::time_point now = Clock::now();
  constexpr int64_t kWall = 2000000000;  // the wall clock's "now" for these answers
  auto with = [&](std::initializer_list<std::pair<std::string_view, std::string_view>> headers,
                  std::string_view cache_control = "") {
    boost::beast::http::fields response;
    for (auto [name, value] : headers) response.insert(name, value);
    Answer answer = Allowed(200);
    if (!cache_control.empty()) ReadCacheControl(cache_control, answer);
    ReadExpiry(response, kWall, answer);
    return KeepUntil(*settings, answer, now);
  };
  const std::string in_a_minute = "Wed, 18 May 2033 03:34:20 GMT";  // kWall + 60
  ASSERT_EQ(ParseHttpDate(in_a_minute), kWall + 60);
  // Expires: its time; past, now or unreadable: not kept; a Cache-Control that decides wins.
  EXPECT_EQ(with({{"Expires", in_a_minute}}), now + std::chrono::seconds(60));
  EXPECT_FALSE(with({{"Expires", "Wed, 18 May 2033 03:33:20 GMT"}}));
  EXPECT_FALSE(with({{"Expires", "0"}}));
  EXPECT_EQ(with({{"Expires", "0"}}, "max-age=5"), now + std::chrono::seconds(5));
  EXPECT_FALSE(with({{"Expires", in_a_minute}}, "no-cache"));
  // X-Accel-Expires decides over both: seconds, @epoch, 0.
  EXPECT_EQ(with({{"X-Accel-Expires", "30"}}), now + std::chrono::seconds(30));
  EXPECT_EQ(with({{"X-Accel-Expires", "@2000000090"}}), now + std::chrono::seconds(90));
  EXPECT_FALSE(with({{"X-Accel-Expires", "@1999999990"}}));
  EXPECT_FALSE(with({{"X-Accel-Expires", "0"}}, "max-age=60"));
  EXPECT_EQ(with({{"X-Accel-Expires", "30"}, {"Expires", "0"}}, "no-store"), now + std::chrono::seconds(30));
  // One that cannot be read is ignored: the others (or the rules) decide.
  EXPECT_EQ(with({{"X-Accel-Expires", "soon"}}), now + std::chrono::minutes(10));
  EXPECT_EQ(with({{"X-Accel-Expires", "-5"}, {"Expires", in_a_minute}}), now + std::chrono::seconds(60));
  // Vary: * keeps nothing, whatever else is said; other Vary names are kept with the answer.
  EXPECT_FALSE(with({{"Vary", "*"}, {"X-Accel-Expires", "30"}}));
  EXPECT_FALSE(with({{"Vary", "Accept-Encoding, *"}}));
  EXPECT_EQ(with({{"Vary", "Accept-Encoding"}}), now + std::chrono::minutes(10));
}

TEST(ReadExpiry, VaryNamesAreKeptLowercaseOnceEach) {
  auto vary = [](std::initializer_list<std::string_view> values) {
    boost::beast::http::fields response;
    for (auto value : values) response.insert("Vary", value);
    Answer answer = Allowed(200);
    ReadExpiry(response, 0, answer);
    return std::make_pair(answer.uncacheable, answer.vary);
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(vary({"X-Team, Accept-Encoding", " x-team ,,", "Cookie"}),
            std::make_pair(false, Names{"x-team", "accept-encoding", "cookie"}));
  EXPECT_EQ(vary({}), std::make_pair(false, Names{}));
  // What is not a plain header name, or too many names, keeps nothing.
  EXPECT_EQ(vary({"X-Team, Bad Name"}), std::make_pair(true, Names{}));
  EXPECT_EQ(vary({"X-Team", "X(y)"}), std::make_pair(true, Names{}));
  std::string many;
  for (std::size_t i = 0; i <= kMaxVaryNames; ++i) many += "h" + std::to_string(i) + ",";
  EXPECT_EQ(vary({many}), std::make_pair(true, Names{}));
}

TEST(Compile, RefusesCacheRulesOutOfRange) {
  pier::v1::ExternalAuth proto;
  proto.set_url("http://auth.example/check");
  proto.set_cache_key("$cookie_session");
  proto.add_cache_rules()->set_ttl_seconds(0);
  EXPECT_FALSE(Settings::Compile(proto));
  proto.mutable_cache_rules(0)->set_ttl_seconds(60);
  proto.mutable_cache_rules(0)->add_statuses(700);
  EXPECT_FALSE(Settings::Compile(proto));
  proto.set_cache_key("constant");
  proto.mutable_cache_rules(0)->clear_statuses();
  EXPECT_FALSE(Settings::Compile(proto));
}

TEST(AnswerCache, FindsWhatWasStoredUntilItExpires) {
  AnswerCache cache;
  const Clock::time_point now = Clock::now();
  cache.Store("k", Allowed(), now + std::chrono::seconds(5));
  auto found = cache.Find("k", now);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, 200u);
  EXPECT_EQ(found->headers, Allowed().headers);
  EXPECT_FALSE(cache.Find("other", now));
  EXPECT_FALSE(cache.Find("k", now + std::chrono::seconds(5)));  // expired, and dropped
  EXPECT_EQ(cache.size(), 0u);
}

TEST(AnswerCache, StaysWithinItsBound) {
  AnswerCache cache;
  const Clock::time_point later = Clock::now() + std::chrono::minutes(5);
  for (std::size_t i = 0; i < AnswerCache::kMaxEntries * 2; ++i) cache.Store("key " + std::to_string(i), Allowed(), later);
  EXPECT_LE(cache.size(), AnswerCache::kMaxEntries);
  EXPECT_GT(cache.size(), AnswerCache::kMaxEntries / 2);
  // Expired entries make room again (a full shard looks for them once a second).
  AnswerCache short_lived;
  const Clock::time_point soon = Clock::now() + std::chrono::milliseconds(1);
  for (std::size_t i = 0; i < AnswerCache::kMaxEntries * 2; ++i) short_lived.Store("a " + std::to_string(i), Allowed(), soon);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  short_lived.Store("fresh", Allowed(), later);
  EXPECT_TRUE(short_lived.Find("fresh", Clock::now()));
}

}  // namespace
}  // namespace pier::dataplane::external_auth
