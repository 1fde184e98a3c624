// Validation of the host and path text an Ingress carries. The API server validates them, but
// manifests are not validated by anyone else, and one bad name would make every dataplane
// refuse the whole snapshot; so bad ones are dropped here with a warning.
#pragma once

#include <string>
#include <string_view>

namespace pier::translate {

// "" (all hosts), a DNS name, or "*." + a DNS name; already lowercased.
bool IsValidHost(std::string_view host) noexcept;

// Starts with "/" and holds no space or control character.
bool IsValidPath(std::string_view path) noexcept;

std::string LowercaseAscii(std::string_view text);

}  // namespace pier::translate
