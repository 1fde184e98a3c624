// Standard base64 (RFC 4648 section 4), as the API server encodes Secret data and kubeconfig
// files embed certificates. Strict, so a truncated or mangled value is reported where it was
// read rather than later as an opaque TLS failure.
#pragma once

#include <string>
#include <string_view>

#include "pier/common/result.h"

namespace pier {

enum class Base64Padding {
  kRequired,  // the API server always pads
  kOptional,  // hand-written kubeconfig data sometimes does not
};

// ASCII whitespace (line wrapping) is skipped; anything else outside the alphabet, data after
// padding, or a length that cannot hold whole bytes is an error.
Result<std::string> Base64Decode(std::string_view text, Base64Padding padding = Base64Padding::kRequired);

}  // namespace pier
