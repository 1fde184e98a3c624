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
  if (key == "proxy-buffering") {
    return Unsupported{"Pier relays each response to the client as it arrives (nginx's proxy_buffering off, "
                       "ingress-nginx's default); buffering responses is not implemented; ignored",
                       0};
  }
  if (key == "proxy-request-buffering") {
    return Unsupported{"Pier streams each request body to the backend as it arrives (proxy-request-buffering "
                       "\"off\"); buffering request bodies first is not implemented; ignored",
                       0};
  }
  if (key.ends_with("-snippet")) {
    return Unsupported{"snippets are never applied: Pier has no configuration text to paste them into", 0};
  }
  return Unsupported{"not implemented by Pier; ignored", 0};
}

bool IsWhatPierDoes(std::string_view key, std::string_view value) {
  return (key == "proxy-buffering" || key == "proxy-request-buffering") && value == "off";
}

}  // namespace pier::annotations
