// allowlist-source-range / denylist-source-range: which client addresses a route serves. The
// deny list wins over the allow list (a network carved out of an allowed range stays out), and
// an empty allow list allows everyone not denied.
#pragma once

#include <boost/asio/ip/address.hpp>

#include "pier/common/cidr.h"

namespace pier::dataplane::limits {

enum class SourceVerdict { kAllowed, kDenied, kNotAllowed };

SourceVerdict CheckSource(const boost::asio::ip::address& client, const CidrSet& allow, const CidrSet& deny) noexcept;

}  // namespace pier::dataplane::limits
