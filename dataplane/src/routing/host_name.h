// Host names as a snapshot spells them (virtual hosts, SNI names): lowercase DNS names, or
// "*.<name>" for a one-label wildcard.
#pragma once

#include <string_view>

namespace pier::dataplane {

// match::IsValidDnsName: a lowercase DNS name (RFC 1035 bounds: 253 characters, labels of 63).
bool IsValidDnsName(std::string_view name) noexcept;

// A DNS name, or "*." followed by one.
bool IsValidHostPattern(std::string_view pattern) noexcept;

// A Host header already passed through match::NormalizeHost would come out unchanged: no
// uppercase ASCII, no port and no trailing ".". Lets Match skip the allocating normalisation
// for the common case.
bool IsNormalizedHost(std::string_view host) noexcept;

}  // namespace pier::dataplane
