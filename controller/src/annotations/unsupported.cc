#include "annotations/unsupported.h"

#include <array>

namespace pier::annotations {
namespace {

// What each of these keys enforces under ingress-nginx is access control: without it, the
// backend would answer anyone. The modifiers of these (auth-tls-verify-client, ...) only matter
// next to one of them. (Basic authentication, auth-type and auth-secret, and external
// authentication, auth-url, are implemented: see the registry.)
constexpr std::array<std::string_view, 1> kAccessKeys = {"auth-tls-secret"};

}  // namespace

Unsupported DescribeUnsupported(std::string_view key) {
  for (std::string_view access : kAccessKeys) {
    if (key == access) {
      return Unsupported{"Pier does not implement this authentication; authenticate in the application or in a proxy "
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
