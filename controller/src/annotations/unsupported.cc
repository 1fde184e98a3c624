#include "annotations/unsupported.h"

#include <array>

namespace pier::annotations {
namespace {

// What each of these keys enforces under ingress-nginx is access control: without it, the
// backend would answer more clients than meant, so an Ingress carrying one is closed. Every such
// key is implemented now (basic authentication, auth-url, client certificates with
// auth-tls-match-cn: see the registry); a future unimplemented one belongs here.
constexpr std::array<std::string_view, 0> kAccessKeys = {};

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
