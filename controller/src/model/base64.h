// Standard base64 (RFC 4648 section 4, padded), as the API server encodes Secret data.
#pragma once

#include <string>
#include <string_view>

#include "pier/common/result.h"

namespace pier::model {

// Whitespace (line breaks from hand-written manifests) is skipped; anything else that is not
// in the alphabet, or bad padding, is an error.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace pier::model
