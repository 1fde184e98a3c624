#include "pier/common/nginx_variables.h"

#include <utility>

namespace pier::nginx_variables {

Result<std::vector<Part>> Split(std::string_view text, std::size_t max_length, bool (*is_name_char)(char)) {
  if (text.size() > max_length) return Fail("longer than " + std::to_string(max_length) + " bytes");
  for (char c : text) {
    if (c <= ' ' || c >= 0x7f) return Fail("holds a space, a control character or a non-ASCII byte");
  }
  std::vector<Part> out;
  std::string literal;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '$') {
      literal += text[i++];
      continue;
    }
    const bool braced = i + 1 < text.size() && text[i + 1] == '{';
    const std::size_t start = i + (braced ? 2 : 1);
    std::size_t end = start;
    while (end < text.size() && is_name_char(text[end])) ++end;
    const std::string_view name = text.substr(start, end - start);
    if (name.empty()) return Fail("'$' at byte " + std::to_string(i) + " is not followed by a variable name");
    if (braced && (end >= text.size() || text[end] != '}')) return Fail("${" + std::string(name) + " is not closed");
    out.push_back(Part{std::move(literal), name});
    literal.clear();
    i = end + (braced ? 1 : 0);
  }
  out.push_back(Part{std::move(literal), {}});
  return out;
}

}  // namespace pier::nginx_variables
