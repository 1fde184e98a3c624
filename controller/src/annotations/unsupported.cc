#include "annotations/unsupported.h"

#include <array>

namespace pier::annotations {
namespace {

// What each of these keys enforces under ingress-nginx is access control: without it, the
// backend would answer more clients than meant. (Basic authentication, auth-type and
// auth-secret, external authentication, auth-url, and client certificates, auth-tls-secret and
// its modifiers, are implemented: see the registry. auth-tls-match-cn, which narrows the
// certificates auth-tls-secret accepts by their subject, is not.)
constexpr std::array<std::string_view, 1> kAccessKeys = {"auth-tls-match-cn"};

}  // namespace

Unsupported DescribeUnsupported(std::string_view key) {
  for (std::string_view access : kAccessKeys) {
    if (key == access) {
      return Unsupported{"Pier does not implement this access check; check it in the application or in a proxy "
                         "in front of it, then remove the annotation",
                         403};
    }
  }
  if (key.ends_with("-snippet")) {
    return Unsupported{"snippets are never applied: Pier has no configuration text to paste them into", 0};
  }
  return Unsupported{"not implemented by Pier; ignored", 0};
}

}  // namespace pier::annotations
