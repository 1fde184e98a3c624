#include "auth/external_auth.h"

#include "auth/answer_cache.h"
#include "auth/keepalive_pool.h"

#include <openssl/ssl.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <optional>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "pier/common/metrics.h"

namespace pier::dataplane::external_auth {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// An auth service answers with a status and a few headers; its body is read and dropped.
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;
constexpr std::uint64_t kMaxBodyBytes = 64 * 1024;

std::array<prometheus::Counter*, 4>& Counters() {
  static auto* counters = [] {
    auto* out = new std::array<prometheus::Counter*, 4>();
    auto& family = prometheus::BuildCounter()
                       .Name("pier_external_auth_total")
                       .Help("Requests to routes with auth-url, by the auth service's answer.")
                       .Register(pier::metrics::Registry());
    constexpr std::array<std::string_view, 4> kNames = {"allowed", "unauthorized", "forbidden", "error"};
    for (std::size_t i = 0; i < out->size(); ++i) (*out)[i] = &family.Add({{"result", std::string(kNames[i])}});
    return out;
  }();
  return *counters;
}

// One client context for every check: the system's roots, the name checked per connection.
asio::ssl::context& ClientContext() {
  static auto* context = [] {
    auto* out = new asio::ssl::context(asio::ssl::context::tls_client);
    out->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    out->set_default_verify_paths(ec);
    if (ec) spdlog::warn("auth-url over https: the system's CA certificates could not be loaded: {}", ec.message());
    out->set_verify_mode(asio::ssl::verify_peer);
    return out;
  }();
  return *context;
}

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One check: resolve, connect, [TLS], write, read; a deadline over all of it. With
// auth-keepalive a kept connection to the service skips the first three, and the connection
// goes back to the worker's pool after a clean answer the service did not close.
class Exchange final : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(const asio::any_io_executor& executor, KeepalivePool* pool, std::shared_ptr<const Settings> settings,
           AuthRequestHead head, Timeouts timeouts, std::function<void(Answer)> done)
      : executor_(executor),
        pool_(settings->keepalive_connections > 0 ? pool : nullptr),
        settings_(std::move(settings)),
        timeouts_(timeouts),
        done_(std::move(done)),
        resolver_(executor),
        deadline_(executor) {
    request_.method_string(head.method);
    request_.target(head.target);
    request_.version(11);
    for (const auto& field : head.fields) request_.insert(field.name_string(), field.value());
  }

  void Start() {
    ResetParser();
    if (pool_ != nullptr) {
      if (auto kept = pool_->Take(settings_->pool_key)) {
        connection_ = std::move(kept);
        reused_ = true;
        stage_ = "no valid answer from " + settings_->host_header;
        Arm(timeouts_.read);
        return Write();
      }
    }
    Connect();
  }

 private:
  void ResetParser() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    // The answer to HEAD announces a body it does not send.
    if (request_.method_string() == "HEAD") parser_->skip(true);
  }

  void Connect() {
    connection_ = std::make_shared<AuthConnection>(executor_, ClientContext());
    reused_ = false;
    stage_ = "cannot resolve " + settings_->host;
    Arm(timeouts_.connect);
    resolver_.async_resolve(settings_->host, std::to_string(settings_->port),
                            [self = shared_from_this()](boost::system::error_code ec, tcp::resolver::results_type results) {
                              self->OnResolved(ec, std::move(results));
                            });
  }

  void Arm(std::chrono::milliseconds timeout) {
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this(), armed = ++armed_](boost::system::error_code ec) {
      if (ec || self->finished_ || armed != self->armed_) return;
      // Answered now: a name lookup cannot be interrupted, and the client must not wait for it.
      self->timed_out_ = true;
      self->Fail(self->stage_, boost::asio::error::timed_out);
    });
  }

  void OnResolved(boost::system::error_code ec, tcp::resolver::results_type results) {
    if (finished_) return;
    if (ec) return Fail("cannot resolve " + settings_->host, ec);
    stage_ = "cannot connect to " + settings_->host_header;
    asio::async_connect(connection_->stream.next_layer(), results,
                        [self = shared_from_this()](boost::system::error_code ec, const tcp::endpoint&) {
                          self->OnConnected(ec);
                        });
  }

  void OnConnected(boost::system::error_code ec) {
    if (finished_) return;
    if (ec) return Fail(stage_, ec);
    stage_ = "no valid answer from " + settings_->host_header;
    Arm(timeouts_.read);
    boost::system::error_code ignored;
    connection_->stream.next_layer().set_option(tcp::no_delay(true), ignored);
    if (!settings_->https) return Write();
    SSL* ssl = connection_->stream.native_handle();
    if (!IsIpLiteral(settings_->host)) SSL_set_tlsext_host_name(ssl, settings_->host.c_str());
    connection_->stream.set_verify_callback(asio::ssl::host_name_verification(settings_->host));
    connection_->stream.async_handshake(asio::ssl::stream_base::client,
                                        [self = shared_from_this()](boost::system::error_code ec) {
                                          if (self->finished_) return;
                                          if (ec) {
                                            return self->Fail(
                                                "TLS handshake with " + self->settings_->host_header + " failed", ec);
                                          }
                                          self->Write();
                                        });
  }

  void Write() {
    auto next = [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (self->finished_) return;
      if (ec) return self->FailOrRetry("cannot send the auth request", ec);
      self->Read();
    };
    if (settings_->https) {
      bhttp::async_write(connection_->stream, request_, std::move(next));
    } else {
      bhttp::async_write(connection_->stream.next_layer(), request_, std::move(next));
    }
  }

  void Read() {
    auto next = [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (self->finished_) return;
      if (ec) return self->FailOrRetry(self->stage_, ec);
      self->Decide();
    };
    if (settings_->https) {
      bhttp::async_read(connection_->stream, connection_->buffer, *parser_, std::move(next));
    } else {
      bhttp::async_read(connection_->stream.next_layer(), connection_->buffer, *parser_, std::move(next));
    }
  }

  // A kept connection the service closed while the check was on its way fails before any byte
  // of an answer: the check goes again, once, on a new connection (nginx does the same with its
  // cached upstream connections). A check that got part of an answer is not sent twice.
  void FailOrRetry(std::string what, boost::system::error_code ec) {
    if (reused_ && !retried_ && !timed_out_ && !parser_->got_some() && connection_->buffer.size() == 0) {
      retried_ = true;
      KeepalivePool::Close(*connection_);
      ResetParser();
      Connect();
      return;
    }
    Fail(std::move(what), ec);
  }

  void Decide() {
    const auto& response = parser_->get();
    Answer answer;
    answer.status = response.result_int();
    auto [cookie, cookies_end] = response.equal_range(bhttp::field::set_cookie);
    for (; cookie != cookies_end; ++cookie) answer.cookies.emplace_back(cookie->value());
    auto [control, controls_end] = response.equal_range(bhttp::field::cache_control);
    for (; control != controls_end; ++control) ReadCacheControl(control->value(), answer);
    ReadExpiry(response, std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()), answer);
    if (answer.status >= 200 && answer.status < 300) {
      answer.kind = Answer::Kind::kAllowed;
      for (const std::string& name : settings_->response_headers) {
        auto [first, last] = response.equal_range(name);
        for (auto it = first; it != last; ++it) answer.headers.emplace_back(name, std::string(it->value()));
      }
    } else if (answer.status == 401) {
      answer.kind = Answer::Kind::kUnauthorized;
      auto [first, last] = response.equal_range(bhttp::field::www_authenticate);
      for (auto it = first; it != last; ++it) answer.headers.emplace_back("www-authenticate", std::string(it->value()));
    } else if (answer.status == 403) {
      answer.kind = Answer::Kind::kForbidden;
    } else {
      answer.kind = Answer::Kind::kError;
      answer.error = settings_->host_header + " answered " + std::to_string(answer.status);
    }
    ++connection_->requests_served;
    // Kept when the service keeps it open, framed its answer exactly, and the connection has
    // carried fewer checks than auth-keepalive-requests.
    const bool keep = pool_ != nullptr && parser_->is_done() && parser_->keep_alive() &&
                      connection_->buffer.size() == 0 &&
                      connection_->requests_served < settings_->keepalive_requests;
    Finish(std::move(answer), keep);
  }

  void Fail(std::string what, boost::system::error_code ec) {
    Answer answer;
    answer.kind = Answer::Kind::kError;
    answer.error = std::move(what) + ": " + (timed_out_ ? std::string("timed out") : ec.message());
    Finish(std::move(answer), false);
  }

  void Finish(Answer answer, bool keep) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    resolver_.cancel();
    if (connection_) {
      if (keep) {
        pool_->Put(settings_->pool_key, std::move(connection_), settings_->keepalive_connections,
                   settings_->keepalive_timeout);
      } else {
        KeepalivePool::Close(*connection_);
      }
    }
    auto done = std::move(done_);
    done(std::move(answer));
  }

  asio::any_io_executor executor_;
  KeepalivePool* pool_;  // null: every check on its own connection
  std::shared_ptr<const Settings> settings_;
  Timeouts timeouts_;
  std::function<void(Answer)> done_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  uint64_t armed_ = 0;  // which Arm the pending deadline belongs to
  AuthConnectionPtr connection_;
  bhttp::request<bhttp::empty_body> request_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  std::string stage_;  // what failed, should the deadline come now
  bool reused_ = false;   // connection_ came from the pool
  bool retried_ = false;  // the check already went again on a new connection
  bool timed_out_ = false;
  bool finished_ = false;
};

std::string HostHeader(const std::string& host, uint16_t port, bool https) {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + host + "]" : host;
  if (port != (https ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

}  // namespace

Result<std::shared_ptr<const Settings>> Settings::Compile(const pier::v1::ExternalAuth& proto) {
  auto url = url_template::SplitAbsolute(proto.url());
  if (!url) return Fail("external_auth url: " + url.error());
  auto target = url_template::Parse(url->target);
  if (!target) return Fail("external_auth url: " + target.error());
  auto out = std::make_shared<Settings>();
  out->https = url->https;
  out->host = url->host;
  out->port = url->port;
  out->host_header = HostHeader(url->host, url->port, url->https);
  out->target = std::move(*target);
  out->method = proto.method().empty() ? "GET" : proto.method();
  if (out->method.size() > 16 ||
      !std::all_of(out->method.begin(), out->method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Fail("external_auth method is not an uppercase token");
  }
  for (const std::string& name : proto.response_headers()) {
    const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
    if (!token || url_template::IsFramingHeader(name)) {
      return Fail("external_auth response header \"" + name + "\" is not a lowercase name that may be copied");
    }
    out->response_headers.push_back(name);
  }
  if (!proto.signin_url().empty()) {
    auto signin = url_template::Parse(proto.signin_url());
    if (!signin) return Fail("external_auth signin_url: " + signin.error());
    if (!proto.signin_url().starts_with("http://") && !proto.signin_url().starts_with("https://")) {
      return Fail("external_auth signin_url is not an http(s) URL");
    }
    out->signin = std::move(*signin);
  }
  out->signin_redirect_param = proto.signin_redirect_param().empty() ? "rd" : proto.signin_redirect_param();
  if (!std::all_of(out->signin_redirect_param.begin(), out->signin_redirect_param.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      })) {
    return Fail("external_auth signin_redirect_param is not a plain name");
  }
  auto redirect = url_template::Parse(proto.request_redirect().empty() ? "$request_uri" : proto.request_redirect());
  if (!redirect) return Fail("external_auth request_redirect: " + redirect.error());
  out->request_redirect = std::move(*redirect);
  out->always_set_cookie = proto.always_set_cookie();
  if (!proto.cache_key().empty()) {
    auto key = auth_cache::ParseKey(proto.cache_key());
    if (!key) return Fail("external_auth cache_key: " + key.error());
    out->cache_key = std::move(*key);
    for (const pier::v1::AuthCacheRule& rule : proto.cache_rules()) {
      if (rule.ttl_seconds() < 1 || rule.ttl_seconds() > 30u * 24 * 3600) {
        return Fail("external_auth cache_rules: ttl_seconds out of 1..2592000");
      }
      auth_cache::Rule& compiled = out->cache_rules.emplace_back();
      for (uint32_t status : rule.statuses()) {
        if (status < 100 || status > 599) return Fail("external_auth cache_rules: status out of 100..599");
        compiled.statuses.push_back(status);
      }
      compiled.any = rule.any();
      compiled.ttl = std::chrono::seconds(rule.ttl_seconds());
    }
    out->cache_scope = proto.url() + " " + out->method;
  }
  if (proto.keepalive_connections() > 0) {
    out->keepalive_connections = proto.keepalive_connections();
    if (proto.keepalive_requests() > 0) out->keepalive_requests = proto.keepalive_requests();
    if (proto.keepalive_timeout_ms() > 0) out->keepalive_timeout = std::chrono::milliseconds(proto.keepalive_timeout_ms());
  }
  out->pool_key = std::string(out->https ? "https://" : "http://") + out->host + " " + std::to_string(out->port);
  return std::shared_ptr<const Settings>(std::move(out));
}

void ReadCacheControl(std::string_view value, Answer& answer) {
  std::optional<std::chrono::seconds> max_age;
  std::optional<std::chrono::seconds> s_maxage;
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string directive(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    std::transform(directive.begin(), directive.end(), directive.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto begin = directive.find_first_not_of(" \t");
    if (begin == std::string::npos) continue;
    const std::string_view item = std::string_view(directive).substr(begin, directive.find_last_not_of(" \t") + 1 - begin);
    if (item == "no-cache" || item == "no-store" || item == "private") {
      answer.uncacheable = true;
      continue;
    }
    for (auto [prefix, out] : {std::pair{std::string_view("max-age="), &max_age},
                               std::pair{std::string_view("s-maxage="), &s_maxage}}) {
      if (!item.starts_with(prefix)) continue;
      uint64_t seconds = 0;
      const std::string_view digits = item.substr(prefix.size());
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
      // Not a number: ignored, as nginx ignores what it cannot read.
      if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty()) {
        *out = std::chrono::seconds(std::min<uint64_t>(seconds, 30ull * 24 * 3600));
      }
    }
  }
  if (auto age = s_maxage ? s_maxage : max_age) {
    if (age->count() == 0) {
      answer.uncacheable = true;
    } else {
      answer.max_age = age;
    }
  }
}

namespace {

constexpr int64_t kMaxKeptSeconds = int64_t{30} * 24 * 3600;

std::string_view TrimSpaces(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") + 1 - begin);
}

template <class Number>
bool WholeNumber(std::string_view text, Number& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// Splits on any of `separators`, dropping empty pieces.
std::vector<std::string_view> Split(std::string_view text, std::string_view separators) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto at = text.find_first_of(separators);
    if (at != 0) out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return out;
}

// A kept time from the service's own clock: none when it is not later than now.
void KeepFor(int64_t seconds, Answer& answer) {
  if (seconds <= 0) {
    answer.uncacheable = true;
    answer.max_age.reset();
    return;
  }
  answer.uncacheable = false;
  answer.max_age = std::chrono::seconds(std::min(seconds, kMaxKeptSeconds));
}

}  // namespace

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  text = TrimSpaces(text);
  std::string_view day, month, year, clock;
  if (const auto comma = text.find(','); comma != std::string_view::npos) {
    // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" or RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT".
    const auto parts = Split(text.substr(comma + 1), " -");
    if (parts.size() != 5 || parts[4] != "GMT") return std::nullopt;
    day = parts[0], month = parts[1], year = parts[2], clock = parts[3];
  } else {
    // asctime "Sun Nov  6 08:49:37 1994".
    const auto parts = Split(text, " ");
    if (parts.size() != 5) return std::nullopt;
    month = parts[1], day = parts[2], clock = parts[3], year = parts[4];
  }
  const auto named = std::find(kMonths.begin(), kMonths.end(), month);
  const auto hms = Split(clock, ":");
  int d = 0, y = 0, h = 0, m = 0, sec = 0;
  if (named == kMonths.end() || hms.size() != 3 || clock.size() != 8 || !WholeNumber(day, d) ||
      !WholeNumber(year, y) || !WholeNumber(hms[0], h) || !WholeNumber(hms[1], m) || !WholeNumber(hms[2], sec)) {
    return std::nullopt;
  }
  if (year.size() == 2) y += y < 70 ? 2000 : 1900;  // RFC 850's two digits
  if ((year.size() != 2 && year.size() != 4) || d < 1 || d > 31 || h > 23 || m > 59 || sec > 60 || y < 1970) {
    return std::nullopt;
  }
  std::tm parts{};
  parts.tm_year = y - 1900;
  parts.tm_mon = static_cast<int>(named - kMonths.begin());
  parts.tm_mday = d;
  parts.tm_hour = h;
  parts.tm_min = m;
  parts.tm_sec = sec;
  return static_cast<int64_t>(timegm(&parts));
}

namespace {

// Adds a Vary value's header names (lowercase, each once) to `names`; false when the value
// holds `*` or a name of other than letters, digits, '-' and '_', or more than kMaxVaryNames
// names in all.
bool ReadVary(std::string_view value, std::vector<std::string>& names) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view item = TrimSpaces(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (item.empty()) continue;
    // Header names as services write them; anything stranger keeps the answer out of the cache.
    const bool plain = std::all_of(item.begin(), item.end(), [](unsigned char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    if (!plain) return false;
    std::string name(item);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    if (names.size() == kMaxVaryNames) return false;
    names.push_back(std::move(name));
  }
  return true;
}

}  // namespace

void ReadExpiry(const boost::beast::http::fields& response, int64_t now, Answer& answer) {
  // Vary: * says no two requests get the same answer (nginx keeps nothing then); other names
  // are what a kept answer's variant depends on.
  for (auto [it, end] = response.equal_range(bhttp::field::vary); it != end; ++it) {
    if (TrimSpaces(it->value()) == "*" || !ReadVary(it->value(), answer.vary)) {
      answer.uncacheable = true;
      answer.max_age.reset();
      answer.vary.clear();
      return;
    }
  }
  // X-Accel-Expires, when it can be read, decides alone: seconds from now, `@` and seconds since
  // the epoch, 0 for not at all.
  if (auto accel = response.find("X-Accel-Expires"); accel != response.end()) {
    std::string_view value = TrimSpaces(accel->value());
    const bool absolute = value.starts_with('@');
    if (absolute) value.remove_prefix(1);
    int64_t seconds = 0;
    if (WholeNumber(value, seconds) && seconds >= 0) {
      KeepFor(absolute ? seconds - now : seconds, answer);
      return;
    }
  }
  // Cache-Control (read before) goes before Expires.
  if (answer.uncacheable || answer.max_age) return;
  if (auto expires = response.find(bhttp::field::expires); expires != response.end()) {
    // A date that cannot be read ("0", "-1") is in the past, as the HTTP specification says.
    const auto when = ParseHttpDate(expires->value());
    KeepFor(when ? *when - now : 0, answer);
  }
}

AuthRequestHead MakeRequest(const Settings& settings, const Request& request) {
  const url_template::Values values{request.host, request.http_host, request.scheme, request.request_uri};
  AuthRequestHead head;
  head.method = settings.method;
  head.target = url_template::Expand(settings.target, values);
  // The client's headers, as nginx's auth_request passes them, without what would describe a
  // body (none is sent) or what Pier sets below.
  static constexpr std::array<std::string_view, 12> kReplaced = {
      "host",            "content-length",          "transfer-encoding", "expect",
      "x-original-url",  "x-original-method",       "x-sent-from",       "x-real-ip",
      "x-forwarded-for", "x-auth-request-redirect", "x-forwarded-proto", "x-forwarded-host"};
  if (request.headers != nullptr) {
    for (const auto& field : *request.headers) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (std::find(kReplaced.begin(), kReplaced.end(), name) != kReplaced.end()) continue;
      if (name == "x-request-id" && !request.request_id.empty()) continue;
      if (request.client_certificate != nullptr &&
          (name == "ssl-client-verify" || name == "ssl-client-subject-dn" || name == "ssl-client-issuer-dn" ||
           name == "ssl-client-cert")) {
        continue;
      }
      head.fields.insert(field.name_string(), field.value());
    }
  }
  if (request.client_certificate != nullptr) {
    std::string_view lines = *request.client_certificate;
    while (!lines.empty()) {
      const std::size_t end = lines.find("\r\n");
      const std::string_view line = lines.substr(0, end);
      const std::size_t colon = line.find(": ");
      if (colon != std::string_view::npos) head.fields.insert(line.substr(0, colon), line.substr(colon + 2));
      if (end == std::string_view::npos) break;
      lines.remove_prefix(end + 2);
    }
  }
  head.fields.set(bhttp::field::host, settings.host_header);
  head.fields.set("X-Original-URL", std::string(request.scheme) + "://" + std::string(request.http_host) +
                                        std::string(request.request_uri));
  head.fields.set("X-Original-Method", request.method);
  head.fields.set("X-Sent-From", "pier");
  head.fields.set("X-Real-IP", request.client_address);
  head.fields.set("X-Forwarded-For", request.client_address);
  head.fields.set("X-Forwarded-Proto", request.scheme);
  head.fields.set("X-Forwarded-Host", request.http_host);
  head.fields.set("X-Auth-Request-Redirect", url_template::Expand(settings.request_redirect, values));
  if (!request.request_id.empty()) head.fields.set("X-Request-ID", request.request_id);
  // With auth-keepalive the connection stays open (HTTP/1.1's default, nginx's
  // `proxy_set_header Connection ""`); otherwise the service is told it is the only check.
  if (settings.keepalive_connections == 0) head.fields.set(bhttp::field::connection, "close");
  return head;
}

std::string SigninLocation(const Settings& settings, const url_template::Values& values) {
  std::string location = url_template::Expand(settings.signin, values);
  const std::string param = settings.signin_redirect_param + "=";
  const std::size_t query = location.find('?');
  const bool has_param = query != std::string::npos && (location.find("?" + param, query) != std::string::npos ||
                                                        location.find("&" + param, query) != std::string::npos);
  if (!has_param) {
    location += query == std::string::npos ? '?' : '&';
    location += param;
    location += url_template::EscapeQueryValue(std::string(values.scheme) + "://" + std::string(values.http_host) +
                                               std::string(values.request_uri));
  }
  return location;
}

void Check(const asio::any_io_executor& executor, KeepalivePool* pool, std::shared_ptr<const Settings> settings,
           const Request& request, Timeouts timeouts, std::function<void(Answer)> done) {
  AuthRequestHead head = MakeRequest(*settings, request);
  std::make_shared<Exchange>(executor, pool, std::move(settings), std::move(head), timeouts, std::move(done))
      ->Start();
}

bool TakesCookies(unsigned status) noexcept {
  switch (status) {
    case 200: case 201: case 204: case 206: case 301: case 302: case 303: case 304: case 307: case 308:
      return true;
    default:
      return false;
  }
}

void Count(Answer::Kind kind) { Counters()[static_cast<std::size_t>(kind)]->Increment(); }

void RegisterMetrics() {
  Counters();
  RegisterCacheMetrics();
}

}  // namespace pier::dataplane::external_auth
