// Regular-expression paths and rewrites (use-regex, rewrite-target), read as ingress-nginx
// reads them, with RE2: a path regex is anchored at the start of the request path only
// (ingress-nginx's `location ~* "^PATH"`) and case-insensitive; a rewrite target replaces the
// whole path, with $1..$9 standing for the regex's groups ($0: what the regex matched).
//
// RE2 runs in time linear in the path and refuses what would not (backreferences,
// lookaround), so no request and no Ingress can make matching slow. Both processes use this: the
// controller to refuse a path or target before it reaches a snapshot, the dataplane to match.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "pier/common/result.h"

namespace re2 {
class RE2;
}

namespace pier::match {

class PathRegex final {
 public:
  // A pattern RE2 accepts (at most 1,024 bytes, and a compiled program under RE2's default
  // memory budget); the error names what is wrong with it.
  static Result<PathRegex> Compile(std::string_view pattern, bool case_insensitive = true);

  // The request path (no query) matches from its first byte.
  bool Matches(std::string_view path) const;
  // The pattern matches somewhere in `text` (canary-by-header-pattern on a header value).
  bool Search(std::string_view text) const;

  // `target` with $0..$9 replaced by what the groups matched in `path` (an unmatched group is
  // empty). False when the path does not match.
  bool Rewrite(std::string_view path, std::string_view target, std::string& out) const;

  const std::string& pattern() const noexcept { return pattern_; }

 private:
  std::string pattern_;
  std::shared_ptr<const re2::RE2> re_;
};

// A rewrite-target: a path starting with "/", the characters a request target may hold (no
// "?", "#", spaces or controls), where "$" is only ever followed by one digit.
Result<bool> CheckRewriteTarget(std::string_view target);

// Replaces $0..$9 in `target` with groups[0..9] (missing ones empty).
std::string ExpandRewrite(std::string_view target, const std::string_view* groups, int group_count);

}  // namespace pier::match
