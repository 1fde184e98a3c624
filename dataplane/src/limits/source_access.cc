#include "limits/source_access.h"

namespace pier::dataplane::limits {

SourceVerdict CheckSource(const boost::asio::ip::address& client, const CidrSet& allow, const CidrSet& deny) noexcept {
  if (!deny.empty() && deny.Contains(client)) return SourceVerdict::kDenied;
  if (!allow.empty() && !allow.Contains(client)) return SourceVerdict::kNotAllowed;
  return SourceVerdict::kAllowed;
}

}  // namespace pier::dataplane::limits
