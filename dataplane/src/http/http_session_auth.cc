// Authentication of a routed request: after source ranges, limits and the CORS preflight
// (browsers send preflights without credentials), before anything reaches the backend. Basic
// authentication (auth-type basic) first, then the auth service of auth-url. The Authorization
// header goes on to the backend, as with ingress-nginx. With both and `satisfy: any`, either one
// lets the client in, in nginx's order: credentials that pass end the check (the auth service is
// not asked), refused ones leave it to the auth service, and when that refuses too the answer is
// basic authentication's 401.
#include <boost/asio/post.hpp>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "pier/common/match.h"

#include "auth/answer_cache.h"
#include "http/http_session.h"
#include "upstream/affinity_cookie.h"

namespace pier::dataplane::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {
constexpr unsigned kUnauthorized = 401;
constexpr unsigned kServiceUnavailable = 503;
// The body of every 401: whether the user exists or the password was wrong is not the
// client's to learn.
constexpr std::string_view kAuthenticationRequired = "authentication required";

// An auth service that is down fails every request: one line a second says so, the counter
// (pier_external_auth_total{result="error"}) counts them all.
void LogAuthServiceError(const std::string& error) {
  static std::atomic<int64_t> last_logged{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = last_logged.load(std::memory_order_relaxed);
  if (now > last && last_logged.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    spdlog::warn("auth-url: {}; such requests answer 500", error);
  }
}

// A header's values in the request, several joined with ", " as one.
void HeaderValues(const bhttp::fields& request, std::string_view name, std::string& value) {
  auto [first, last] = request.equal_range(name);
  for (auto it = first; it != last; ++it) {
    if (it != first) value += ", ";
    value += it->value();
  }
}

// Appends `value` length-prefixed, so that no two different sequences of values run together.
void AppendCounted(std::string_view value, std::string& raw) {
  raw += std::to_string(value.size());
  raw += ':';
  raw += value;
}

// SHA-256 of `raw`, which is wiped: what it was made of may be credentials.
std::string DigestAndWipe(std::string& raw) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), digest);
  OPENSSL_cleanse(raw.data(), raw.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

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
  ServeAuthenticated();
}

bool HttpSession::EitherAuthenticationEnough() const {
  const RouteConfig& route = *exchange_.route;
  return route.proto.satisfy_any() && route.basic_auth && route.external_auth;
}

void HttpSession::ServeAuthenticated() {
  const RouteConfig& route = *exchange_.route;
  // With satisfy any, credentials that passed are enough (nginx's auth_basic ends the access
  // phase before auth_request runs).
  if (!route.external_auth || (EitherAuthenticationEnough() && !exchange_.basic_refused)) {
    ServeRoute();
    return;
  }
  const auto& request = request_->get();
  const std::string host = match::NormalizeHost(exchange_.host);
  external_auth::Request ask;
  ask.headers = &request;
  ask.method = exchange_.method_text;
  ask.host = host;
  ask.http_host = exchange_.host;
  ask.scheme = exchange_.forwarded.tls ? "https" : "http";
  ask.request_uri = request.target();
  ask.client_address = exchange_.forwarded.client;
  ask.request_id = exchange_.forwarded.request_id;
  ask.client_certificate = exchange_.forwarded.client_certificate;
  // auth-cache-key: a kept answer decides without asking the service.
  std::string cache_key;
  if (route.external_auth->cache_key) {
    cache_key = AuthCacheKey(*route.external_auth);
    auto& cache = external_auth::AnswerCache::Get();
    const auto now = external_auth::AnswerCache::Clock::now();
    auto kept = cache.Find(cache_key, now);
    // An answer that varies (Vary) names the headers its variants depend on; this request's
    // values of them pick the variant, kept under the key and their digest.
    if (kept && !kept->vary.empty()) kept = cache.Find(cache_key + AuthVaryDigest(kept->vary), now);
    if (kept) {
      external_auth::CountCache(true);
      OnAuthServiceAnswer(std::move(*kept));
      return;
    }
    external_auth::CountCache(false);
  }
  // The check's handlers run on this connection's executor, so the answer arrives here.
  external_auth::Check(client_.get_executor(), &worker_.auth_connections(), route.external_auth, ask,
                       {route.connect_timeout, route.read_timeout},
                       [self = shared_from_this(), cache_key = std::move(cache_key)](external_auth::Answer answer) {
                         if (!cache_key.empty()) {
                           const auto now = external_auth::AnswerCache::Clock::now();
                           // The route the request matched (held by the exchange): its rules.
                           if (auto until = external_auth::KeepUntil(*self->exchange_.route->external_auth, answer, now)) {
                             auto& cache = external_auth::AnswerCache::Get();
                             cache.Store(cache_key, answer, *until);
                             if (!answer.vary.empty()) {
                               cache.Store(cache_key + self->AuthVaryDigest(answer.vary), answer, *until);
                             }
                           }
                         }
                         self->OnAuthServiceAnswer(std::move(answer));
                       });
}

// The route, the service and every variable of the key, each value length-prefixed so that no
// two requests with different values share a key; hashed (SHA-256), so the table holds no
// credentials the key may be made of.
std::string HttpSession::AuthCacheKey(const external_auth::Settings& settings) const {
  const auto& request = request_->get();
  std::string raw = exchange_.route->name;
  raw += '\0';
  raw += settings.cache_scope;
  raw += '\0';
  std::string value;
  for (const auth_cache::KeyPiece& piece : settings.cache_key->pieces) {
    raw += piece.literal;
    if (!piece.source) continue;
    value.clear();
    switch (*piece.source) {
      case auth_cache::Source::kHeader:
        HeaderValues(request, piece.name, value);
        break;
      case auth_cache::Source::kCookie: {
        auto [first, last] = request.equal_range(bhttp::field::cookie);
        for (auto it = first; it != last && value.empty(); ++it) {
          if (auto cookie = upstream::FindCookie(it->value(), piece.name)) value = *cookie;
        }
        break;
      }
      case auth_cache::Source::kRemoteAddr:
        value = exchange_.forwarded.client;
        break;
      case auth_cache::Source::kRemoteUser: {
        auto [first, last] = request.equal_range(bhttp::field::authorization);
        if (first != last && std::next(first) == last) {
          if (auto given = basic_auth::ParseAuthorization(first->value())) {
            value = std::move(given->user);
            OPENSSL_cleanse(given->password.data(), given->password.size());
          }
        }
        break;
      }
      case auth_cache::Source::kHost:
        value = match::NormalizeHost(exchange_.host);
        break;
      case auth_cache::Source::kRequestUri:
        value = request.target();
        break;
      case auth_cache::Source::kScheme:
        value = exchange_.forwarded.tls ? "https" : "http";
        break;
    }
    AppendCounted(value, raw);
  }
  OPENSSL_cleanse(value.data(), value.size());
  return DigestAndWipe(raw);
}

// SHA-256 over the request's values of the named headers (a header's several values joined with
// ", ", as one), each length-prefixed: the kept variant's half of the key, holding no values
// itself (they may be credentials).
std::string HttpSession::AuthVaryDigest(const std::vector<std::string>& names) const {
  const auto& request = request_->get();
  std::string raw;
  for (const std::string& name : names) {
    raw += name;
    raw += '\0';
    std::string value;
    HeaderValues(request, name, value);
    AppendCounted(value, raw);
    OPENSSL_cleanse(value.data(), value.size());
  }
  return DigestAndWipe(raw);
}

void HttpSession::OnAuthServiceAnswer(external_auth::Answer answer) {
  using Kind = external_auth::Answer::Kind;
  const external_auth::Settings& settings = *exchange_.route->external_auth;
  external_auth::Count(answer.kind);
  exchange_.auth_cookies = std::move(answer.cookies);
  if (answer.kind == Kind::kAllowed) {
    // What the service says replaces whatever the client sent under those names.
    auto& request = request_->get();
    for (const std::string& name : settings.response_headers) request.erase(name);
    for (auto& [name, value] : answer.headers) request.insert(name, value);
    ServeRoute();
    return;
  }
  if (exchange_.upgrade) exchange_.metrics->CountUpgrade(UpgradeResult::kDisabled);
  // satisfy any, credentials refused, and now the service too: basic authentication's 401
  // stands, whatever the service said (nginx keeps the first 401 of the access phase), with
  // the service's challenge after the realm's when it sent one.
  const bool refused_twice = exchange_.basic_refused &&
                             (answer.kind == Kind::kUnauthorized || answer.kind == Kind::kForbidden);
  if (refused_twice && settings.signin.empty()) {
    exchange_.challenges.push_back(exchange_.route->basic_auth->challenge());
    if (answer.kind == Kind::kUnauthorized) {
      for (auto& header : answer.headers) exchange_.challenges.push_back(std::move(header.second));
    }
    SendError(kUnauthorized, kAuthenticationRequired);
    return;
  }
  switch (refused_twice ? Kind::kUnauthorized : answer.kind) {
    case Kind::kUnauthorized:
      if (!settings.signin.empty()) {
        const std::string host = match::NormalizeHost(exchange_.host);
        const url_template::Values values{host, exchange_.host, exchange_.forwarded.tls ? "https" : "http",
                                          request_->get().target()};
        exchange_.location = external_auth::SigninLocation(settings, values);
        SendError(302, "authentication required: sign in first");
        return;
      }
      for (auto& header : answer.headers) exchange_.challenges.push_back(std::move(header.second));
      SendError(kUnauthorized, kAuthenticationRequired);
      return;
    case Kind::kForbidden:
      SendError(403, "forbidden by the authentication service");
      return;
    default:
      LogAuthServiceError(answer.error);
      SendError(500, "the authentication service did not answer usably");
      return;
  }
}

void HttpSession::AddAuthCookies(bhttp::fields& fields, bool from_backend) const {
  const bool always = exchange_.route->external_auth->always_set_cookie;
  if (!always && !(from_backend && external_auth::TakesCookies(exchange_.status))) return;
  for (const std::string& cookie : exchange_.auth_cookies) fields.insert(bhttp::field::set_cookie, cookie);
}

void HttpSession::RefuseCredentials(basic_auth::Outcome outcome, std::string_view why) {
  basic_auth::Count(outcome);
  spdlog::debug("{} {} {}{}: basic authentication: {}", exchange_.forwarded.client, exchange_.method_text,
                exchange_.host, exchange_.path, why);
  if (EitherAuthenticationEnough()) {
    exchange_.basic_refused = true;  // the auth service may still let the client in
    ServeAuthenticated();
    return;
  }
  if (exchange_.upgrade) exchange_.metrics->CountUpgrade(UpgradeResult::kDisabled);
  exchange_.challenges.push_back(exchange_.route->basic_auth->challenge());
  SendError(kUnauthorized, kAuthenticationRequired);
}

}  // namespace pier::dataplane::http
