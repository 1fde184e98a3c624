#include "admin/admin_endpoints.h"

namespace pier::dataplane {

AdminHandlers MakeAdminHandlers(const Readiness& readiness) {
  AdminHandlers handlers;
  handlers.routes["/readyz"] = [&readiness] {
    const std::string reason = readiness.NotReadyReason();
    if (reason.empty()) return AdminResponse{200, "text/plain; charset=utf-8", "ok\n"};
    return AdminResponse{503, "text/plain; charset=utf-8", "not ready: " + reason + "\n"};
  };
  return handlers;
}

Result<std::unique_ptr<AdminServer>> StartAdmin(const std::string& listen, const Readiness& readiness) {
  return AdminServer::Start(listen, MakeAdminHandlers(readiness));
}

}  // namespace pier::dataplane
