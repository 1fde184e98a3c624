#include "http/set_cookie.h"

#include <boost/beast/core/string.hpp>

#include <vector>

namespace pier::dataplane::http {

namespace {

struct Part {
  std::string_view name;
  std::optional<std::string> value;  // nullopt: the part had no "="
};

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// nginx splits at every ";" and each part at its first "=", trimming spaces (not tabs).
std::vector<Part> Split(std::string_view value) {
  std::vector<Part> parts;
  while (true) {
    const std::size_t end = value.find(';');
    const std::string_view part = value.substr(0, end);
    const std::size_t equals = part.find('=');
    if (equals == std::string_view::npos) {
      parts.push_back({TrimSpaces(part), std::nullopt});
    } else {
      parts.push_back({TrimSpaces(part.substr(0, equals)), std::string(TrimSpaces(part.substr(equals + 1)))});
    }
    if (end == std::string_view::npos) return parts;
    value.remove_prefix(end + 1);
  }
}

// proxy_cookie_domain: the whole Domain, case-insensitive, a leading "." skipped on both sides
// and kept in the value.
bool RewriteDomain(std::string& domain, std::string_view from, std::string_view to) {
  if (from.starts_with('.')) from.remove_prefix(1);
  const std::size_t dot = domain.starts_with('.') ? 1 : 0;
  if (!boost::beast::iequals(std::string_view(domain).substr(dot), from)) return false;
  domain.replace(dot, std::string::npos, to);
  return true;
}

// proxy_cookie_path: a case-sensitive prefix of the Path.
bool RewritePath(std::string& path, std::string_view from, std::string_view to) {
  if (!path.starts_with(from)) return false;
  path.replace(0, from.size(), to);
  return true;
}

}  // namespace

std::optional<std::string> RewriteSetCookie(std::string_view value, const pier::v1::CookieRewrite& rule) {
  std::vector<Part> parts = Split(value);
  if (!parts.front().value) return std::nullopt;
  bool changed = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    Part& part = parts[i];
    if (!part.value) continue;
    if (!rule.domain_from().empty() && boost::beast::iequals(part.name, "domain")) {
      changed |= RewriteDomain(*part.value, rule.domain_from(), rule.domain_to());
    } else if (!rule.path_from().empty() && boost::beast::iequals(part.name, "path")) {
      changed |= RewritePath(*part.value, rule.path_from(), rule.path_to());
    }
  }
  if (!changed) return std::nullopt;
  std::string out;
  out.reserve(value.size() + rule.domain_to().size() + rule.path_to().size());
  for (const Part& part : parts) {
    if (&part != &parts.front()) out.append("; ");
    out.append(part.name);
    if (part.value) {
      out.push_back('=');
      out.append(*part.value);
    }
  }
  return out;
}

}  // namespace pier::dataplane::http
