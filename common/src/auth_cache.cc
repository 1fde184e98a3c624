#include "pier/common/auth_cache.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

#include "pier/common/nginx_variables.h"
#include "pier/common/parse.h"

namespace pier::auth_cache {
namespace {

constexpr std::size_t kMaxLength = 1024;
constexpr std::chrono::seconds kMaxTtl{30 * 24 * 3600};

constexpr std::array<std::pair<std::string_view, Source>, 5> kNames = {{
    {"remote_addr", Source::kRemoteAddr},
    {"remote_user", Source::kRemoteUser},
    {"host", Source::kHost},
    {"request_uri", Source::kRequestUri},
    {"scheme", Source::kScheme},
}};

// nginx's variable names: letters, digits and '_' (a header's dashes are written as '_').
bool IsNameChar(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    if (end > i) out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace

Result<Key> ParseKey(std::string_view text) {
  auto parts = nginx_variables::Split(text, kMaxLength, IsNameChar);
  if (!parts) return Fail(parts.error());
  Key out;
  for (nginx_variables::Part& part : *parts) {
    const std::string_view name = part.name;
    if (name.empty()) {
      if (!part.literal.empty() && !out.pieces.empty()) out.pieces.push_back(KeyPiece{std::move(part.literal), std::nullopt, ""});
      continue;
    }
    KeyPiece piece{std::move(part.literal), std::nullopt, ""};
    if (name.starts_with("http_") && name.size() > 5) {
      piece.source = Source::kHeader;
      for (char c : name.substr(5)) piece.name += c == '_' ? '-' : static_cast<char>(std::tolower(c));
    } else if (name.starts_with("cookie_") && name.size() > 7) {
      piece.source = Source::kCookie;
      piece.name = std::string(name.substr(7));
    } else {
      const auto* known =
          std::find_if(kNames.begin(), kNames.end(), [&](const auto& entry) { return entry.first == name; });
      if (known == kNames.end()) {
        return Fail("unknown variable $" + std::string(name) +
                    " (known: $http_NAME, $cookie_NAME, $remote_addr, $remote_user, $host, $request_uri, $scheme)");
      }
      piece.source = known->second;
    }
    out.pieces.push_back(std::move(piece));
  }
  if (out.pieces.empty()) return Fail("uses no variable: every client would share one cached answer");
  return out;
}

Result<std::vector<Rule>> ParseDurations(std::string_view text) {
  std::vector<Rule> out;
  std::string_view rest = text;
  while (true) {
    const auto comma = rest.find(',');
    const std::vector<std::string_view> words = Words(rest.substr(0, comma));
    if (words.empty()) return Fail("an empty entry; expected statuses and a time, such as \"200 202 401 5m\"");
    Rule rule;
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "any") {
        rule.any = true;
        continue;
      }
      unsigned status = 0;
      const auto [end, ec] = std::from_chars(words[i].data(), words[i].data() + words[i].size(), status);
      if (ec != std::errc() || end != words[i].data() + words[i].size() || status < 100 || status > 599) {
        return Fail("\"" + std::string(words[i]) + "\" is not a status (100-599) or \"any\"");
      }
      rule.statuses.push_back(status);
    }
    auto ttl = parse::Duration(words.back());
    if (!ttl) return Fail("\"" + std::string(words.back()) + "\": " + ttl.error());
    rule.ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
    if (rule.ttl < std::chrono::seconds(1) || rule.ttl > kMaxTtl) {
      return Fail("\"" + std::string(words.back()) + "\": must be from 1s to 720h");
    }
    if (rule.statuses.empty() && !rule.any) rule.statuses = {200, 301, 302};
    out.push_back(std::move(rule));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::chrono::seconds> TtlFor(const std::vector<Rule>& rules, unsigned status) {
  // In order, as nginx's ngx_http_file_cache_valid: the first rule naming the status, or `any`.
  for (const Rule& rule : rules) {
    if (rule.any || std::find(rule.statuses.begin(), rule.statuses.end(), status) != rule.statuses.end()) {
      return rule.ttl;
    }
  }
  return std::nullopt;
}

}  // namespace pier::auth_cache
