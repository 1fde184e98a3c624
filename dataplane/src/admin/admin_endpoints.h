// The dataplane's admin listener: /metrics and /healthz from the common admin server, and a
// /readyz that says why it is not ready.
#pragma once

#include <memory>
#include <string>

#include "admin/readiness.h"
#include "pier/common/admin_server.h"
#include "pier/common/result.h"

namespace pier::dataplane {

AdminHandlers MakeAdminHandlers(const Readiness& readiness);

// `readiness` must outlive the server.
Result<std::unique_ptr<AdminServer>> StartAdmin(const std::string& listen, const Readiness& readiness);

}  // namespace pier::dataplane
