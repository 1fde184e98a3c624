#include "annotations/value_parsers.h"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>

#include "pier/common/auth_cache.h"
#include "pier/common/parse.h"
#include "pier/common/path_regex.h"
#include "pier/common/url_template.h"

namespace pier::annotations {
namespace {

constexpr bool IsLower(char c) noexcept { return c >= 'a' && c <= 'z'; }
constexpr bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr char ToLower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ToLower(c);
  return out;
}

// RFC 9110 tchar.
constexpr bool IsTokenChar(char c) noexcept {
  if (IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return kSpecials.find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

// DNS-1035 label, as Service names are: lowercase alphanumerics and "-", starting with a
// letter, ending alphanumeric, at most 63 characters.
bool IsDns1035Label(std::string_view text) noexcept {
  if (text.empty() || text.size() > 63 || !IsLower(text.front())) return false;
  if (text.back() == '-') return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return IsLower(c) || IsDigit(c) || c == '-'; });
}

// A DNS-1123 label (lowercase, as host names are compared after lowercasing).
bool IsDns1123Label(std::string_view text) noexcept {
  if (text.empty() || text.size() > 63 || text.front() == '-' || text.back() == '-') return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return IsLower(c) || IsDigit(c) || c == '-'; });
}

bool IsHostName(std::string_view text) noexcept {
  if (text.empty() || text.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    if (!IsDns1123Label(text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::vector<std::string> SortedUnique(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

Result<std::string> Origin(std::string_view item) {
  const std::string origin = Lower(item);
  auto fail = [&](std::string_view why) {
    return Fail("invalid origin \"" + std::string(item) + "\": " + std::string(why));
  };
  std::string_view rest = origin;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return fail("expected http://HOST or https://HOST");
  }
  std::string_view host = rest;
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    const std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return fail("port must be a number from 1 to 65535");
    }
  }
  if (host.starts_with("*.")) host.remove_prefix(2);
  if (!IsHostName(host)) return fail("expected a host name (no path, no trailing \"/\")");
  return origin;
}

}  // namespace

Result<std::vector<std::string>> CommaList(std::string_view text) {
  std::vector<std::string> out;
  if (parse::TrimSpace(text).empty()) return Fail("empty list");
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string_view item =
        parse::TrimSpace(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) return Fail("empty item in list \"" + std::string(text) + "\"");
    out.emplace_back(item);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

Result<std::string> TokenList(std::string_view text, bool allow_star) {
  auto items = CommaList(text);
  if (!items) return Fail(items.error());
  std::string joined;
  for (const std::string& item : *items) {
    if (!IsToken(item) || (item == "*" && !allow_star)) {
      return Fail("\"" + item + "\" is not " + (allow_star ? "an HTTP token or \"*\"" : "an HTTP token"));
    }
    if (!joined.empty()) joined += ", ";
    joined += item;
  }
  return joined;
}

Result<std::vector<std::string>> ServiceNames(std::string_view text) {
  auto items = CommaList(text);
  if (!items) return Fail(items.error());
  for (const std::string& name : *items) {
    if (!IsDns1035Label(name)) return Fail("\"" + name + "\" is not a Service name");
  }
  return SortedUnique(std::move(*items));
}

Result<std::vector<std::string>> Origins(std::string_view text) {
  if (parse::TrimSpace(text) == "*") return std::vector<std::string>{};
  auto items = CommaList(text);
  if (!items) return Fail(items.error());
  std::vector<std::string> out;
  for (const std::string& item : *items) {
    if (item == "*") return Fail("\"*\" (any Origin) cannot be combined with other origins");
    auto origin = Origin(item);
    if (!origin) return Fail(origin.error());
    out.push_back(std::move(*origin));
  }
  return SortedUnique(std::move(out));
}

Result<uint32_t> Count(std::string_view text, uint32_t min, uint32_t max) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Fail("invalid number \"" + std::string(text) + "\": expected an integer from " + std::to_string(min) +
                " to " + std::to_string(max));
  }
  return static_cast<uint32_t>(value);
}

Result<HashBy> HashKey(std::string_view text) {
  constexpr std::string_view kExpected =
      "expected $remote_addr, $http_NAME, $cookie_NAME or $arg_NAME";
  if (text == "$remote_addr" || text == "$binary_remote_addr") return HashBy{HashBy::Source::kRemoteAddr, ""};
  struct Variable {
    std::string_view prefix;
    HashBy::Source source;
  };
  for (const Variable& variable : {Variable{"$http_", HashBy::Source::kHeader}, Variable{"$cookie_", HashBy::Source::kCookie},
                                   Variable{"$arg_", HashBy::Source::kQueryArg}}) {
    if (!text.starts_with(variable.prefix)) continue;
    std::string name(text.substr(variable.prefix.size()));
    if (!IsToken(name)) break;
    if (variable.source == HashBy::Source::kHeader) {
      // nginx spells headers lowercase with "_" for "-" ($http_x_user_id).
      name = Lower(name);
      std::replace(name.begin(), name.end(), '_', '-');
    }
    return HashBy{variable.source, std::move(name)};
  }
  return Fail("invalid hash key \"" + std::string(text) + "\": " + std::string(kExpected));
}

Result<std::string> CookieName(std::string_view text) {
  if (!IsToken(text)) return Fail("invalid cookie name \"" + std::string(text) + "\": expected an HTTP token");
  return std::string(text);
}

Result<std::string> CookiePath(std::string_view text) {
  const bool printable = std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f && c != ';'; });
  if (!text.starts_with("/") || !printable) {
    return Fail("invalid cookie path \"" + std::string(text) + "\": expected a path starting with \"/\", without spaces or \";\"");
  }
  return std::string(text);
}

Result<std::string> CookieDomain(std::string_view text) {
  std::string domain = Lower(text);
  std::string_view host = domain;
  if (host.starts_with(".")) host.remove_prefix(1);
  if (!IsHostName(host)) return Fail("invalid cookie domain \"" + std::string(text) + "\": expected a host name");
  return domain;
}

Result<std::string> SameSite(std::string_view text) {
  const std::string value = Lower(text);
  if (value == "strict") return std::string("Strict");
  if (value == "lax") return std::string("Lax");
  if (value == "none") return std::string("None");
  return Fail("invalid SameSite \"" + std::string(text) + "\": expected Strict, Lax or None");
}

namespace {

// "" when `text` is a location Pier can send as it is, else why not.
std::string LocationProblem(std::string_view text) {
  if (text.empty()) return "is empty";
  if (text.find('$') != std::string_view::npos) return "holds an nginx variable ($); only a trailing $request_uri is understood";
  if (!parse::IsLocationText(text)) {
    return "is longer than 2048 bytes or holds a space, a control byte, a quote, a backslash, <, >, {, }, |, ^ or `";
  }
  if (text.starts_with("/")) return text.starts_with("//") ? "starts with \"//\" (another host without a scheme)" : "";
  const std::string lower = Lower(text.substr(0, 8));
  std::string_view rest = text;
  if (lower.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (lower.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return "is neither an http(s) URL nor a path starting with \"/\"";
  }
  const std::size_t end = rest.find_first_of("/?#");
  if (rest.substr(0, end).empty()) return "names no host";
  return "";
}

}  // namespace

Result<RedirectTarget> RedirectUrl(std::string_view text) {
  constexpr std::string_view kRequestUri = "$request_uri";
  RedirectTarget target;
  std::string_view location = text;
  if (location.ends_with(kRequestUri)) {
    location.remove_suffix(kRequestUri.size());
    target.append_request_uri = true;
  }
  if (const std::string problem = LocationProblem(location); !problem.empty()) {
    return Fail("invalid redirect \"" + std::string(text) + "\": " + problem);
  }
  target.location = std::string(location);
  return target;
}

Result<std::string> AppRoot(std::string_view text) {
  std::string problem = LocationProblem(text);
  if (problem.empty() && !text.starts_with("/")) problem = "is not a path starting with \"/\"";
  if (!problem.empty()) return Fail("invalid app-root \"" + std::string(text) + "\": " + problem);
  return std::string(text);
}

Result<uint32_t> RedirectCode(std::string_view text) {
  auto code = Count(text, 300, 308);
  if (!code || *code == 304 || *code == 305 || *code == 306) {
    return Fail("invalid redirect code \"" + std::string(text) + "\": expected 300, 301, 302, 303, 307 or 308");
  }
  return *code;
}

Result<SecretRef> SecretReference(std::string_view text) {
  auto fail = [&] {
    return Fail("invalid secret \"" + std::string(text) + "\": expected NAME or NAMESPACE/NAME");
  };
  SecretRef out;
  std::string_view name = text;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    const std::string_view namespace_ = text.substr(0, slash);
    name = text.substr(slash + 1);
    // Namespaces are DNS-1123 labels; object names are subdomains (labels joined by dots).
    if (!IsDns1123Label(namespace_)) return fail();
    out.namespace_ = std::string(namespace_);
  }
  if (!IsHostName(name)) return fail();
  out.name = std::string(name);
  return out;
}

Result<std::pair<uint32_t, uint32_t>> TlsProtocols(std::string_view text) {
  constexpr uint32_t kTls12 = 0x0303;
  constexpr uint32_t kTls13 = 0x0304;
  bool tls12 = false;
  bool tls13 = false;
  std::size_t start = 0;
  while (start < text.size()) {
    if (text[start] == ' ' || text[start] == '\t') {
      ++start;
      continue;
    }
    std::size_t end = start;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    const std::string_view name = text.substr(start, end - start);
    if (name == "TLSv1.2") {
      tls12 = true;
    } else if (name == "TLSv1.3") {
      tls13 = true;
    } else if (name != "TLSv1" && name != "TLSv1.1") {
      return Fail("\"" + std::string(name.substr(0, 16)) + "\" is not TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3");
    }
    start = end;
  }
  if (!tls12 && !tls13) return Fail("Pier speaks TLSv1.2 and TLSv1.3 only, and the list names neither");
  return std::pair<uint32_t, uint32_t>(tls12 ? kTls12 : kTls13, tls13 ? kTls13 : kTls12);
}

Result<std::string> ServerName(std::string_view text) {
  std::string name = Lower(text);
  if (!IsHostName(name)) return Fail("invalid server name \"" + std::string(text) + "\": expected a host name");
  return name;
}

Result<std::string> UpstreamHost(std::string_view text) {
  const auto fail = [&] {
    return Fail("invalid upstream host \"" + std::string(text) +
                "\": expected a host name or an IP address, with an optional :port (no variables)");
  };
  std::string value = Lower(text);
  std::string_view host = value;
  std::string_view port;
  if (host.starts_with("[")) {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return fail();
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec || (!port.empty() && !port.starts_with(":"))) return fail();
  } else {
    const std::size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon);
      host = host.substr(0, colon);
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address_v4(std::string(host), ec);
    if (ec && !IsHostName(host)) return fail();
  }
  if (!port.empty()) {
    port.remove_prefix(1);
    const auto number = Count(port, 1, 65535);
    if (!number || port.front() == '0') return fail();
  }
  return value;
}

Result<bool> OnOff(std::string_view text) {
  const std::string value = Lower(text);
  if (value == "on" || value == "true") return true;
  if (value == "off" || value == "false") return false;
  return Fail("invalid value \"" + std::string(text) + "\": expected on or off");
}

Result<std::string> RewriteTarget(std::string_view text) {
  auto ok = match::CheckRewriteTarget(text);
  if (!ok) return Fail(ok.error());
  return std::string(text);
}

Result<std::string> ForwardedPrefix(std::string_view text) {
  auto ok = match::CheckRewriteTarget(text);
  if (!ok || text.find('$') != std::string_view::npos) {
    return Fail("x-forwarded-prefix \"" + std::string(text) + "\" must be a path starting with \"/\" (no variables)");
  }
  return std::string(text);
}

Result<std::string> HeaderName(std::string_view text) {
  if (!IsToken(text)) return Fail("invalid header name \"" + std::string(text) + "\": expected an HTTP token");
  return Lower(text);
}

Result<std::string> HeaderValue(std::string_view text) {
  constexpr std::size_t kMaxBytes = 256;
  const bool visible = std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (text.empty() || text.size() > kMaxBytes || !visible) {
    return Fail("invalid header value \"" + std::string(text) + "\": expected 1 to 256 visible ASCII characters");
  }
  return std::string(text);
}

Result<std::string> AuthRealm(std::string_view text) {
  constexpr std::size_t kMaxBytes = 256;
  const bool fits = std::all_of(text.begin(), text.end(),
                                [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (text.size() > kMaxBytes || !fits) {
    return Fail("invalid realm \"" + std::string(text) +
                "\": expected at most 256 visible ASCII characters or spaces, without '\"' or '\\'");
  }
  return std::string(text);
}

Result<std::string> HeaderPattern(std::string_view text) {
  auto regex = match::PathRegex::Compile(text, /*case_insensitive=*/false);
  if (!regex) return Fail(regex.error());
  return std::string(text);
}

Result<std::vector<std::string>> HostNames(std::string_view text) {
  auto items = CommaList(text);
  if (!items) return Fail(items.error());
  for (std::string& item : *items) {
    item = Lower(item);
    const std::string_view host = std::string_view(item).starts_with("*.") ? std::string_view(item).substr(2) : item;
    if (!IsHostName(host)) return Fail("\"" + item + "\" is not a host name or *.name");
  }
  return SortedUnique(std::move(*items));
}

namespace {

// The URL with $host in its authority replaced by a sample host, so that the rest can be
// checked as the dataplane will see it once the translator has put the route's host there.
std::string WithSampleHost(std::string_view text) {
  std::string url(text);
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const std::size_t start = scheme_end + 3;
  for (std::string_view host : {"${host}", "$host"}) {
    if (url.compare(start, host.size(), host) == 0) {
      const std::size_t after = start + host.size();
      if (after == url.size() || url[after] == '/' || url[after] == '?' || url[after] == ':') {
        url.replace(start, host.size(), "host.invalid");
      }
      break;
    }
  }
  return url;
}

Result<bool> CheckAbsoluteTemplate(std::string_view what, std::string_view text, std::string_view checked) {
  if (auto parsed = url_template::Parse(text); !parsed) {
    return Fail("invalid " + std::string(what) + " \"" + std::string(text) + "\": " + parsed.error());
  }
  if (auto split = url_template::SplitAbsolute(checked); !split) {
    return Fail("invalid " + std::string(what) + " \"" + std::string(text) + "\": " + split.error());
  }
  return true;
}

}  // namespace

Result<std::string> AuthUrl(std::string_view text) {
  if (auto ok = CheckAbsoluteTemplate("auth-url", text, WithSampleHost(text)); !ok) return Fail(ok.error());
  return std::string(text);
}

Result<std::string> AuthCacheKey(std::string_view text) {
  if (auto key = auth_cache::ParseKey(text); !key) return Fail("invalid auth-cache-key: " + key.error());
  return std::string(text);
}

Result<std::string> AuthCacheDuration(std::string_view text) {
  if (auto rules = auth_cache::ParseDurations(text); !rules) return Fail("invalid auth-cache-duration: " + rules.error());
  return std::string(text);
}

Result<std::string> AuthSignin(std::string_view text) {
  // Any variable may stand in the host here: the client is sent there, nothing is fetched.
  std::string checked(text);
  const std::size_t scheme_end = checked.find("://");
  if (scheme_end != std::string::npos) {
    const std::size_t end = checked.find_first_of("/?", scheme_end + 3);
    const std::string authority = checked.substr(scheme_end + 3, end == std::string::npos ? end : end - scheme_end - 3);
    if (authority.find('$') != std::string::npos) checked.replace(scheme_end + 3, authority.size(), "host.invalid");
  }
  if (auto ok = CheckAbsoluteTemplate("auth-signin", text, checked); !ok) return Fail(ok.error());
  return std::string(text);
}

Result<std::string> AuthRequestRedirect(std::string_view text) {
  auto parsed = url_template::Parse(text);
  if (!parsed) return Fail("invalid auth-request-redirect \"" + std::string(text) + "\": " + parsed.error());
  return std::string(text);
}

Result<std::string> QueryParameterName(std::string_view text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-' || c == '_';
  });
  if (text.empty() || text.size() > 64 || !plain) {
    return Fail("invalid query parameter name \"" + std::string(text) + "\": expected letters, digits, '-' or '_'");
  }
  return std::string(text);
}

Result<std::string> AuthMethod(std::string_view text) {
  const bool upper = std::all_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (text.empty() || text.size() > 16 || !upper) {
    return Fail("invalid auth-method \"" + std::string(text) + "\": expected an uppercase HTTP method such as GET");
  }
  return std::string(text);
}

Result<std::vector<std::string>> AuthResponseHeaders(std::string_view text) {
  constexpr std::size_t kMaxNames = 32;
  auto items = CommaList(text);
  if (!items) return Fail(items.error());
  if (items->size() > kMaxNames) return Fail("more than " + std::to_string(kMaxNames) + " header names");
  for (std::string& item : *items) {
    auto name = HeaderName(item);
    if (!name) return Fail(name.error());
    if (url_template::IsFramingHeader(*name)) {
      return Fail("header " + *name + " frames the request or the connection and cannot be copied to it");
    }
    item = std::move(*name);
  }
  return items;
}

}  // namespace pier::annotations
