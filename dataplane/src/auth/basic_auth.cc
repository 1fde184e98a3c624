#include "auth/basic_auth.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <unordered_set>

#include "pier/common/base64.h"
#include "pier/common/metrics.h"

namespace pier::dataplane::basic_auth {
namespace {

// Verified credentials remembered per thread; beyond this many the set starts over (a client
// whose entry went only pays one more hash).
constexpr std::size_t kMaxRemembered = 16 * 1024;
// The Authorization value read at most: a user name and password are short, a header as long
// as --max-header-bytes is not.
constexpr std::size_t kMaxCredentialBytes = 4096;

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

std::unordered_set<std::string>& Remembered() {
  thread_local std::unordered_set<std::string> remembered;
  return remembered;
}

std::array<prometheus::Counter*, static_cast<std::size_t>(Outcome::kCount)>& AuthCounters() {
  static auto* counters = [] {
    auto* out = new std::array<prometheus::Counter*, static_cast<std::size_t>(Outcome::kCount)>();
    auto& family = prometheus::BuildCounter()
                       .Name("pier_basic_auth_total")
                       .Help("Requests to routes with basic authentication, by what became of their credentials.")
                       .Register(pier::metrics::Registry());
    for (std::size_t i = 0; i < out->size(); ++i) {
      (*out)[i] = &family.Add({{"result", std::string(OutcomeName(static_cast<Outcome>(i)))}});
    }
    return out;
  }();
  return *counters;
}

}  // namespace

std::optional<Credentials> ParseAuthorization(std::string_view value) {
  constexpr std::string_view kScheme = "basic";
  if (value.size() > kMaxCredentialBytes || value.size() <= kScheme.size() ||
      !EqualsIgnoringCase(value.substr(0, kScheme.size()), kScheme) || value[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view token = value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  // One token68: base64 never holds a space, so one inside is a malformed header, not wrapping.
  if (token.empty() || token.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  auto decoded = Base64Decode(token, Base64Padding::kOptional);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  Credentials out{decoded->substr(0, colon), decoded->substr(colon + 1)};
  if (HasControl(out.user) || HasControl(out.password)) return std::nullopt;
  return out;
}

Result<std::shared_ptr<const Users>> Users::Compile(const pier::v1::BasicAuth& proto) {
  auto out = std::make_shared<Users>();
  const std::string& realm = proto.realm();
  if (realm.size() > 256 || HasControl(realm) || realm.find_first_of("\"\\") != std::string::npos ||
      std::any_of(realm.begin(), realm.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return Fail("basic_auth realm is not visible ASCII without '\"' or '\\'");
  }
  out->challenge_ = "Basic realm=\"" + realm + "\"";
  for (const pier::v1::BasicAuthUser& user : proto.users()) {
    if (user.name().empty() || user.name().find(':') != std::string::npos || HasControl(user.name())) {
      return Fail("basic_auth user name \"" + user.name() + "\" is empty or holds ':' or a control character");
    }
    auto scheme = pier::auth::ClassifyHash(user.hash());
    if (!scheme) return Fail("basic_auth user \"" + user.name() + "\": " + scheme.error());
    pier::auth::Credential credential{user.name(), user.hash(), *scheme};
    if (!out->users_.emplace(user.name(), std::move(credential)).second) {
      return Fail("basic_auth user \"" + user.name() + "\" is listed twice");
    }
  }
  return std::shared_ptr<const Users>(std::move(out));
}

const pier::auth::Credential* Users::Find(std::string_view user) const {
  const auto it = users_.find(std::string(user));
  return it == users_.end() ? nullptr : &it->second;
}

std::string_view OutcomeName(Outcome result) noexcept {
  static constexpr std::string_view kNames[] = {"allowed", "cached", "denied", "missing", "busy"};
  const auto index = static_cast<std::size_t>(result);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

void Count(Outcome result) { AuthCounters()[static_cast<std::size_t>(result)]->Increment(); }

void RegisterMetrics() { AuthCounters(); }

struct PasswordChecker::Pool {
  explicit Pool(std::size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
  std::atomic<std::size_t> pending{0};
};

PasswordChecker& PasswordChecker::Get() {
  static PasswordChecker* checker = new PasswordChecker();  // never destroyed: its threads may outlive statics
  return *checker;
}

PasswordChecker::PasswordChecker() {
  std::array<unsigned char, 32> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    // Without randomness the digests are only as secret as their input; still a working cache.
    key.fill(0);
  }
  key_.assign(reinterpret_cast<const char*>(key.data()), key.size());
  // Half the cores: the other half keep serving while a burst of logins is hashed.
  const std::size_t threads = std::max<std::size_t>(1, std::thread::hardware_concurrency() / 2);
  pool_ = std::make_unique<Pool>(threads);
}

std::string PasswordChecker::CacheKey(const pier::auth::Credential& credential, std::string_view user,
                                      std::string_view password) const {
  // Lengths first, so no two different triples hash the same input.
  std::string input = key_;
  for (std::string_view part : {user, std::string_view(credential.hash), password}) {
    const auto size = static_cast<uint32_t>(part.size());
    input.append(reinterpret_cast<const char*>(&size), sizeof(size));
    input.append(part);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr);
  OPENSSL_cleanse(input.data(), input.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

PasswordChecker::Verdict PasswordChecker::Check(const pier::auth::Credential& credential, std::string_view user,
                                                std::string_view password) {
  std::string key = CacheKey(credential, user, password);
  if (Remembered().contains(key)) return Verdict::kCached;
  if (pier::auth::IsExpensive(credential.scheme)) return Verdict::kOffThread;
  if (!pier::auth::VerifyPassword(credential.hash, password)) return Verdict::kDenied;
  RememberKey(std::move(key));
  return Verdict::kAllowed;
}

bool PasswordChecker::CheckOffThread(const pier::auth::Credential& credential, std::string_view password,
                                     std::function<void(bool)> done) {
  if (pool_->pending.fetch_add(1, std::memory_order_relaxed) >= kMaxPending) {
    pool_->pending.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  boost::asio::post(pool_->pool, [this, hash = credential.hash, secret = std::string(password),
                                  done = std::move(done)]() mutable {
    const bool ok = pier::auth::VerifyPassword(hash, secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    pool_->pending.fetch_sub(1, std::memory_order_relaxed);
    done(ok);
  });
  return true;
}

void PasswordChecker::Remember(const pier::auth::Credential& credential, std::string_view user, std::string_view password) {
  RememberKey(CacheKey(credential, user, password));
}

void PasswordChecker::RememberKey(std::string key) {
  auto& remembered = Remembered();
  if (remembered.size() >= kMaxRemembered) remembered.clear();
  remembered.insert(std::move(key));
}

}  // namespace pier::dataplane::basic_auth
