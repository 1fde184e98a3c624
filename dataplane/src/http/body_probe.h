// A dry run of Beast's parser over the bytes of one message that are already buffered (head and
// whatever part of the body arrived with it), keeping nothing. A chunked body whose first
// chunks are already malformed is then refused before the head is sent on, so the next hop
// never sees the start of a message that cannot be completed. Framing that goes wrong later
// is still caught by the real parser mid-stream; this only moves the common case (a whole
// small request in one segment) in front of the upstream connection.
#pragma once

#include <boost/system/error_code.hpp>

#include <string_view>

#include "http/head_validator.h"

namespace pier::dataplane::http {

// The first framing error in `bytes` (a complete head followed by body bytes), or success when
// the bytes are valid so far (including "more is needed").
boost::system::error_code ProbeBufferedMessage(HeadKind kind, std::string_view bytes) noexcept;

}  // namespace pier::dataplane::http
