#include "pier/common/path_regex.h"

#include <re2/re2.h>

#include <array>

namespace pier::match {

namespace {

constexpr std::size_t kMaxPatternBytes = 1024;
constexpr std::size_t kMaxTargetBytes = 2048;
constexpr int kGroups = 10;  // $0..$9

}  // namespace

Result<PathRegex> PathRegex::Compile(std::string_view pattern, bool case_insensitive) {
  if (pattern.empty() || pattern.size() > kMaxPatternBytes) {
    return Fail("a regex must be 1 to " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  for (char c : pattern) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Fail("regex \"" + std::string(pattern) + "\" holds a space or control character");
    }
  }
  RE2::Options options;
  options.set_case_sensitive(!case_insensitive);
  options.set_log_errors(false);
  options.set_encoding(RE2::Options::EncodingLatin1);  // request paths are bytes, not UTF-8
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) return Fail("regex \"" + std::string(pattern) + "\" is not valid: " + re->error());
  PathRegex out;
  out.pattern_ = std::string(pattern);
  out.re_ = std::move(re);
  return out;
}

bool PathRegex::Matches(std::string_view path) const {
  return re_->Match(re2::StringPiece(path.data(), path.size()), 0, path.size(), RE2::ANCHOR_START, nullptr, 0);
}

bool PathRegex::Search(std::string_view text) const {
  return re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED, nullptr, 0);
}

bool PathRegex::Rewrite(std::string_view path, std::string_view target, std::string& out) const {
  std::array<re2::StringPiece, kGroups> pieces;
  const int groups = std::min(kGroups, re_->NumberOfCapturingGroups() + 1);
  if (!re_->Match(re2::StringPiece(path.data(), path.size()), 0, path.size(), RE2::ANCHOR_START, pieces.data(),
                  groups)) {
    return false;
  }
  std::array<std::string_view, kGroups> views;
  for (int i = 0; i < groups; ++i) views[i] = std::string_view(pieces[i].data(), pieces[i].size());
  out = ExpandRewrite(target, views.data(), groups);
  return true;
}

Result<bool> CheckRewriteTarget(std::string_view target) {
  if (target.empty() || target.front() != '/' || target.size() > kMaxTargetBytes) {
    return Fail("rewrite target \"" + std::string(target) + "\" must be a path starting with \"/\"");
  }
  constexpr std::string_view kNeverInPath = "\"<>\\^`{|}?#";
  for (std::size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f ||
        kNeverInPath.find(c) != std::string_view::npos) {
      return Fail("rewrite target \"" + std::string(target) +
                  "\" holds a character a path cannot (space, control, quote, \"?\", \"#\"...)");
    }
    if (c == '$' && (i + 1 == target.size() || target[i + 1] < '0' || target[i + 1] > '9')) {
      return Fail("rewrite target \"" + std::string(target) + "\": \"$\" must be followed by a group number 0-9 "
                  "(no nginx variables)");
    }
  }
  return true;
}

std::string ExpandRewrite(std::string_view target, const std::string_view* groups, int group_count) {
  std::string out;
  out.reserve(target.size() + 32);
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '$' && i + 1 < target.size() && target[i + 1] >= '0' && target[i + 1] <= '9') {
      const int group = target[i + 1] - '0';
      if (group < group_count) out += groups[group];
      ++i;
      continue;
    }
    out += target[i];
  }
  return out;
}

}  // namespace pier::match
