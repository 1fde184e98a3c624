#include "http/request_target.h"

#include <boost/beast/core/string.hpp>

namespace pier::dataplane::http {

RequestTarget SplitRequestTarget(std::string_view target) {
  RequestTarget result;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && boost::beast::iequals(target.substr(0, scheme.size()), scheme)) {
      target.remove_prefix(scheme.size());
      auto end = target.find_first_of("/?");
      result.authority = std::string(target.substr(0, end));
      target = end == std::string_view::npos ? std::string_view() : target.substr(end);
      if (target.empty() || target.front() == '?') result.origin = "/";
      break;
    }
  }
  result.origin.append(target);
  result.path = result.origin.substr(0, result.origin.find('?'));
  return result;
}

}  // namespace pier::dataplane::http
