// HTTP basic authentication (RFC 7617) for routes with auth-type basic: the Authorization
// header read, a route's users looked up, and their passwords verified without stalling an I/O
// thread.
//
// Verifying a password means hashing it as the htpasswd file did. $apr1$, {SHA}, {SSHA} and
// {PLAIN} cost well under a millisecond and are verified where the request is; crypt(3) hashes
// (bcrypt, SHA-crypt, yescrypt) are made to cost tens of milliseconds, and on an I/O thread one
// such check would hold every connection of that thread, so they run on a thread pool of their
// own with a bounded queue (beyond it: 503, the request is not kept waiting). A verified
// (user, hash, password) is remembered per thread, under a keyed SHA-256 digest, so a client
// sending the same credentials with every request pays the hash once per thread, not per
// request. Failures are never remembered.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pier/common/htpasswd.h"
#include "pier/common/result.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::basic_auth {

struct Credentials {
  std::string user;
  std::string password;
};

// The user and password of an Authorization value "Basic <base64 of user:password>" (scheme
// in any case). Nullopt for another scheme, bad base64, no ':' or a control character in
// either part.
std::optional<Credentials> ParseAuthorization(std::string_view value);

// A route's users (Route.basic_auth), compiled once per snapshot.
class Users final {
 public:
  // Refuses a realm that would break its quoted string, an empty or repeated user name, a name
  // with ':' or a control character, a hash no scheme can verify.
  static Result<std::shared_ptr<const Users>> Compile(const pier::v1::BasicAuth& proto);

  const pier::auth::Credential* Find(std::string_view user) const;
  // The WWW-Authenticate value of a 401: Basic realm="...".
  const std::string& challenge() const noexcept { return challenge_; }

 private:
  std::unordered_map<std::string, pier::auth::Credential> users_;
  std::string challenge_;
};

// What became of a request's credentials; also the pier_basic_auth_total result label.
enum class Outcome : uint8_t {
  kAllowed,  // the password was verified now
  kCached,   // the same credentials were verified before on this thread
  kDenied,   // wrong password, unknown user, or malformed credentials: 401
  kMissing,  // no Authorization header: 401 (a browser's first request)
  kBusy,     // too many crypt(3) checks queued: 503
  kCount
};
std::string_view OutcomeName(Outcome result) noexcept;
void Count(Outcome result);
// Registers pier_basic_auth_total with every result at 0, so it is scraped before the first
// protected request (and described in the metric reference).
void RegisterMetrics();

class PasswordChecker final {
 public:
  // Queued and running crypt(3) checks beyond which a request gets 503 at once.
  static constexpr std::size_t kMaxPending = 128;

  static PasswordChecker& Get();

  enum class Verdict { kAllowed, kCached, kDenied, kOffThread };
  // kAllowed, kCached, kDenied: decided now, on this thread (a success of a cheap hash is
  // remembered here). kOffThread: the hash is too costly for an I/O thread; call CheckOffThread.
  Verdict Check(const pier::auth::Credential& credential, std::string_view user, std::string_view password);
  // Starts the check Check left; `done` runs later on a checker thread with the outcome (the
  // caller posts back to its own thread). False, with nothing started, when kMaxPending checks
  // are already queued or running.
  bool CheckOffThread(const pier::auth::Credential& credential, std::string_view password,
                      std::function<void(bool)> done);
  // After an off-thread check succeeded, on the thread that asked: remember it there.
  void Remember(const pier::auth::Credential& credential, std::string_view user, std::string_view password);

 private:
  PasswordChecker();
  std::string CacheKey(const pier::auth::Credential& credential, std::string_view user, std::string_view password) const;
  static void RememberKey(std::string key);

  std::string key_;  // random per process: cached digests are worthless outside it
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace pier::dataplane::basic_auth
