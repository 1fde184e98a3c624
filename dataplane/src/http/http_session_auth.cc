// Basic authentication of a routed request (auth-type basic): after source ranges, limits and
// the CORS preflight (browsers send preflights without credentials), before anything reaches
// the backend. The Authorization header goes on to the backend, as with ingress-nginx.
#include <boost/asio/post.hpp>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "http/http_session.h"

namespace pier::dataplane::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {
constexpr unsigned kUnauthorized = 401;
constexpr unsigned kServiceUnavailable = 503;
// The body of every 401: whether the user exists or the password was wrong is not the
// client's to learn.
constexpr std::string_view kAuthenticationRequired = "authentication required";
}  // namespace

bool HttpSession::Authenticate() {
  const basic_auth::Users& users = *exchange_.route->basic_auth;
  const auto& request = request_->get();
  auto [first, last] = request.equal_range(bhttp::field::authorization);
  if (first == last) {
    RefuseCredentials(basic_auth::Outcome::kMissing, "no credentials");
    return false;
  }
  std::optional<basic_auth::Credentials> given;
  if (std::next(first) == last) given = basic_auth::ParseAuthorization(first->value());
  if (!given) {
    RefuseCredentials(basic_auth::Outcome::kDenied, "malformed Authorization header");
    return false;
  }
  const auth::Credential* credential = users.Find(given->user);
  if (credential == nullptr) {
    RefuseCredentials(basic_auth::Outcome::kDenied, "unknown user");
    return false;
  }
  const auto verdict = basic_auth::PasswordChecker::Get().Check(*credential, given->user, given->password);
  switch (verdict) {
    case basic_auth::PasswordChecker::Verdict::kAllowed:
    case basic_auth::PasswordChecker::Verdict::kCached:
      OPENSSL_cleanse(given->password.data(), given->password.size());
      basic_auth::Count(verdict == basic_auth::PasswordChecker::Verdict::kAllowed ? basic_auth::Outcome::kAllowed
                                                                                  : basic_auth::Outcome::kCached);
      exchange_.user = std::move(given->user);
      return true;
    case basic_auth::PasswordChecker::Verdict::kDenied:
      OPENSSL_cleanse(given->password.data(), given->password.size());
      RefuseCredentials(basic_auth::Outcome::kDenied, "wrong password");
      return false;
    case basic_auth::PasswordChecker::Verdict::kOffThread:
      break;
  }
  // The pool thread's answer comes back to this connection's thread, where the session lives;
  // the password travels along to be remembered there after a success.
  const bool started = basic_auth::PasswordChecker::Get().CheckOffThread(
      *credential, given->password, [self = shared_from_this(), user = given->user, password = given->password](bool ok) mutable {
        auto executor = self->client_.get_executor();
        asio::post(executor, [self = std::move(self), ok, user = std::move(user), password = std::move(password)]() mutable {
          self->OnPasswordChecked(ok, std::move(user), std::move(password));
        });
      });
  OPENSSL_cleanse(given->password.data(), given->password.size());
  if (started) return false;
  basic_auth::Count(basic_auth::Outcome::kBusy);
  if (exchange_.upgrade) exchange_.metrics->CountUpgrade(UpgradeResult::kDisabled);
  exchange_.retry_after_s = 1;
  SendError(kServiceUnavailable, "too many password checks in progress");
  return false;
}

void HttpSession::OnPasswordChecked(bool ok, std::string user, std::string password) {
  if (!ok) {
    OPENSSL_cleanse(password.data(), password.size());
    RefuseCredentials(basic_auth::Outcome::kDenied, "wrong password");
    return;
  }
  // The snapshot may have changed meanwhile; the route this request matched is still held, and
  // it is that route's user the password was checked against.
  if (const auth::Credential* credential = exchange_.route->basic_auth->Find(user)) {
    basic_auth::PasswordChecker::Get().Remember(*credential, user, password);
  }
  OPENSSL_cleanse(password.data(), password.size());
  basic_auth::Count(basic_auth::Outcome::kAllowed);
  exchange_.user = std::move(user);
  ServeRoute();
}

void HttpSession::RefuseCredentials(basic_auth::Outcome outcome, std::string_view why) {
  basic_auth::Count(outcome);
  spdlog::debug("{} {} {}{}: basic authentication: {}", exchange_.forwarded.client, exchange_.method_text,
                exchange_.host, exchange_.path, why);
  if (exchange_.upgrade) exchange_.metrics->CountUpgrade(UpgradeResult::kDisabled);
  exchange_.challenge = true;
  SendError(kUnauthorized, kAuthenticationRequired);
}

}  // namespace pier::dataplane::http
