// The `$name` and `${name}` syntax of nginx variables in annotation values (auth-url,
// auth-signin, auth-request-redirect, auth-cache-key): the text split into literals and variable
// names, and nothing else. What a name means is the caller's: each keeps a fixed list.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"

namespace pier::nginx_variables {

struct Part {
  std::string literal;    // text before the variable (may be empty)
  std::string_view name;  // empty: the text after the last variable
};

// Fails on more than `max_length` bytes, a byte that is not visible ASCII (a space or a control
// character could split a header), a `$` not followed by a name, or an unclosed `${`. A name is
// the longest run of bytes `is_name_char` accepts. The last part has no name (its literal may be
// empty); "" gives one empty part.
Result<std::vector<Part>> Split(std::string_view text, std::size_t max_length, bool (*is_name_char)(char));

}  // namespace pier::nginx_variables
