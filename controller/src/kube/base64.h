// Strict base64 decoding for the *-data fields of a kubeconfig. Strict so that a truncated or
// mangled certificate is reported where it was read, not later as an opaque TLS failure.
#pragma once

#include <string>
#include <string_view>

#include "pier/common/result.h"

namespace pier::kube {

// Standard alphabet with '=' padding; ASCII whitespace (line wrapping) is ignored.
Result<std::string> DecodeBase64(std::string_view text);

}  // namespace pier::kube
