#include "http/request_target.h"

#include <boost/beast/core/string.hpp>

namespace pier::dataplane::http {

RequestTarget SplitRequestTarget(std::string_view target) {
  RequestTarget result;
  bool needs_slash = false;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && boost::beast::iequals(target.substr(0, scheme.size()), scheme)) {
      target.remove_prefix(scheme.size());
      auto end = target.find_first_of("/?");
      result.authority.assign(target.data(), end == std::string_view::npos ? target.size() : end);
      target = end == std::string_view::npos ? std::string_view() : target.substr(end);
      needs_slash = target.empty() || target.front() == '?';
      break;
    }
  }
  result.origin.reserve(target.size() + 1);
  if (needs_slash) result.origin.push_back('/');
  result.origin.append(target.data(), target.size());
  result.path.assign(result.origin, 0, result.origin.find('?'));
  return result;
}

}  // namespace pier::dataplane::http
