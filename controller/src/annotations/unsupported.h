// ingress-nginx annotations Pier does not implement. A team moving from ingress-nginx keeps its
// nginx.ingress.kubernetes.io/ keys, and a key Pier does not read would otherwise change what the
// Ingress does without a word: each one is reported (reason UnsupportedAnnotation). The keys that
// keep clients out under ingress-nginx (external or basic authentication, client certificates)
// also close the Ingress' routes, so an application that relied on them is never served open.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pier::annotations {

struct Unsupported {
  std::string why;         // one line: what Pier does instead, or what to do
  uint32_t fail_closed_status = 0;  // non-zero: the routes refuse every request with this status
};

// `key` without the nginx.ingress.kubernetes.io/ prefix, for a key Pier does not read under
// any name.
Unsupported DescribeUnsupported(std::string_view key);

// Whether `value` of that key asks for what Pier does anyway (proxy-buffering "off": responses
// are relayed as they arrive; proxy-request-buffering "off": request bodies too), so there is
// nothing to report.
bool IsWhatPierDoes(std::string_view key, std::string_view value);

}  // namespace pier::annotations
