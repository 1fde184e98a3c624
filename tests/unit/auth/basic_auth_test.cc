// The dataplane's basic authentication: reading Authorization, compiling a route's users, and
// PasswordChecker's inline, remembered and off-thread checks.
#include "auth/basic_auth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace pier::dataplane::basic_auth {
namespace {

// `openssl passwd -apr1 -salt pier s3cret`, `openssl passwd -5 -salt pierpier s3cret`.
constexpr const char* kApr1 = "$apr1$pier$kpClQyGnUSUBweJJBXl.6.";
constexpr const char* kSha256Crypt = "$5$pierpier$kA/VBLgs4qSoM2Cs5BDV7cRzPqQhT53E8Z6F6KY69G2";

pier::auth::Credential Make(const std::string& user, const std::string& hash) {
  auto scheme = pier::auth::ClassifyHash(hash);
  EXPECT_TRUE(scheme.ok()) << hash;
  return pier::auth::Credential{user, hash, scheme.ok() ? *scheme : pier::auth::HashScheme::kPlain};
}

TEST(ParseAuthorization, UserAndPasswordSplitAtTheFirstColon) {
  // base64("alice:open:sesame")
  auto credentials = ParseAuthorization("Basic YWxpY2U6b3BlbjpzZXNhbWU=");
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->user, "alice");
  EXPECT_EQ(credentials->password, "open:sesame");
  // The scheme in any case, more than one space, trailing space, no padding.
  EXPECT_TRUE(ParseAuthorization("bAsIc   YWxpY2U6b3BlbjpzZXNhbWU= "));
  EXPECT_TRUE(ParseAuthorization("Basic YWxpY2U6eA"));
  // An empty password is a password (it is the hash that refuses it).
  auto empty = ParseAuthorization("Basic YWxpY2U6");  // "alice:"
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->password, "");
}

TEST(ParseAuthorization, AnythingElseIsNoCredentials) {
  for (const char* value : {"", "Basic", "Basic ", "Basic  ", "BasicYWxpY2U6eA==", "Bearer YWxpY2U6eA==",
                            "Digest username=\"alice\"", "Basic YWxpY2U=",  // "alice": no colon
                            "Basic !!!!", "Basic YWxp Y2U6eA==",  // a space inside the token
                            "Basic YWxpY2UJOng=",                 // "alice\t:x": a control character
                            "Basic YWxpY2U6eAp5"}) {              // "alice:x\ny"
    EXPECT_FALSE(ParseAuthorization(value)) << value;
  }
  EXPECT_FALSE(ParseAuthorization("Basic " + std::string(5000, 'A')));
}

TEST(Users, CompileFindAndChallenge) {
  pier::v1::BasicAuth proto;
  proto.set_enabled(true);
  proto.set_realm("Staff only");
  auto* alice = proto.add_users();
  alice->set_name("alice");
  alice->set_hash(kApr1);
  auto users = Users::Compile(proto);
  ASSERT_TRUE(users.ok()) << users.error();
  EXPECT_EQ((*users)->challenge(), "Basic realm=\"Staff only\"");
  ASSERT_NE((*users)->Find("alice"), nullptr);
  EXPECT_EQ((*users)->Find("alice")->scheme, pier::auth::HashScheme::kApr1);
  EXPECT_EQ((*users)->Find("Alice"), nullptr) << "user names are case-sensitive, as in nginx";
  EXPECT_EQ((*users)->Find("bob"), nullptr);
}

TEST(Users, RefusesWhatCouldNotBeSentOrVerified) {
  auto compile = [](const std::string& realm, const std::string& name, const std::string& hash) {
    pier::v1::BasicAuth proto;
    proto.set_enabled(true);
    proto.set_realm(realm);
    auto* user = proto.add_users();
    user->set_name(name);
    user->set_hash(hash);
    return Users::Compile(proto);
  };
  EXPECT_TRUE(compile("ok", "alice", kApr1).ok());
  EXPECT_FALSE(compile("a\"b", "alice", kApr1).ok());
  EXPECT_FALSE(compile("a\\b", "alice", kApr1).ok());
  EXPECT_FALSE(compile("a\r\nb", "alice", kApr1).ok());
  EXPECT_FALSE(compile("caf\xc3\xa9", "alice", kApr1).ok());
  EXPECT_FALSE(compile("", "al:ice", kApr1).ok());
  EXPECT_FALSE(compile("", "al\nice", kApr1).ok());
  EXPECT_FALSE(compile("", "alice", "$apr1$short").ok());
}

TEST(PasswordChecker, ACheapHashIsCheckedNowAndThenRemembered) {
  PasswordChecker& checker = PasswordChecker::Get();
  const auto credential = Make("apr", kApr1);
  EXPECT_EQ(checker.Check(credential, "apr", "wrong"), PasswordChecker::Verdict::kDenied);
  EXPECT_EQ(checker.Check(credential, "apr", "wrong"), PasswordChecker::Verdict::kDenied)
      << "failures are never remembered";
  EXPECT_EQ(checker.Check(credential, "apr", "s3cret"), PasswordChecker::Verdict::kAllowed);
  EXPECT_EQ(checker.Check(credential, "apr", "s3cret"), PasswordChecker::Verdict::kCached);
  // Remembered for that (user, hash, password) only.
  EXPECT_EQ(checker.Check(credential, "apr", "s3cret!"), PasswordChecker::Verdict::kDenied);
  EXPECT_EQ(checker.Check(Make("apr", "{PLAIN}s3cret"), "apr", "s3cret"), PasswordChecker::Verdict::kAllowed);
  // Per thread: another I/O thread checks for itself.
  std::thread([&] {
    EXPECT_EQ(checker.Check(credential, "apr", "s3cret"), PasswordChecker::Verdict::kAllowed);
  }).join();
}

TEST(PasswordChecker, ACryptHashIsCheckedOnAnotherThread) {
  PasswordChecker& checker = PasswordChecker::Get();
  const auto credential = Make("crypt", kSha256Crypt);
  for (const auto& [password, expected] : {std::pair{"wrong", false}, std::pair{"s3cret", true}}) {
    std::promise<std::pair<bool, std::thread::id>> outcome;
    ASSERT_EQ(checker.Check(credential, "crypt", password), PasswordChecker::Verdict::kOffThread);
    ASSERT_TRUE(checker.CheckOffThread(credential, password, [&](bool ok) {
      outcome.set_value({ok, std::this_thread::get_id()});
    }));
    auto future = outcome.get_future();
    ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    const auto [ok, thread] = future.get();
    EXPECT_EQ(ok, expected) << password;
    EXPECT_NE(thread, std::this_thread::get_id());
  }
  // Remembered only when the asking thread says so, after a success.
  EXPECT_EQ(checker.Check(credential, "crypt", "s3cret"), PasswordChecker::Verdict::kOffThread);
  checker.Remember(credential, "crypt", "s3cret");
  EXPECT_EQ(checker.Check(credential, "crypt", "s3cret"), PasswordChecker::Verdict::kCached);
}

TEST(PasswordChecker, NoMoreThanTheBoundIsQueuedOrRunning) {
  PasswordChecker& checker = PasswordChecker::Get();
  const auto credential = Make("crypt", kSha256Crypt);
  // Every check's answer waits for `release`, which holds the pool's threads: after at most
  // one check per thread (whose own count ends before its answer), the rest stay queued.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> answered{0};
  const std::size_t threads = std::max<std::size_t>(1, std::thread::hardware_concurrency() / 2);
  std::size_t started = 0;
  bool refused = false;
  while (started <= PasswordChecker::kMaxPending + threads) {
    if (!checker.CheckOffThread(credential, "s3cret", [&, released](bool) {
          released.wait();
          ++answered;
        })) {
      refused = true;
      break;
    }
    ++started;
  }
  EXPECT_TRUE(refused);
  EXPECT_GE(started, PasswordChecker::kMaxPending);
  release.set_value();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (answered.load() < static_cast<int>(started) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(answered.load(), static_cast<int>(started));
  // Drained: checks start again.
  std::promise<bool> again;
  ASSERT_TRUE(checker.CheckOffThread(credential, "s3cret", [&](bool ok) { again.set_value(ok); }));
  EXPECT_TRUE(again.get_future().get());
}

TEST(Outcome, NamesAreTheMetricLabels) {
  EXPECT_EQ(OutcomeName(Outcome::kAllowed), "allowed");
  EXPECT_EQ(OutcomeName(Outcome::kCached), "cached");
  EXPECT_EQ(OutcomeName(Outcome::kDenied), "denied");
  EXPECT_EQ(OutcomeName(Outcome::kMissing), "missing");
  EXPECT_EQ(OutcomeName(Outcome::kBusy), "busy");
}

}  // namespace
}  // namespace pier::dataplane::basic_auth
