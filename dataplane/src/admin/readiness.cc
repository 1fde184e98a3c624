#include "admin/readiness.h"

namespace pier::dataplane {

std::string Readiness::NotReadyReason() const {
  if (draining()) return "draining";
  if (store_.Current() == nullptr) return "no snapshot applied yet (waiting for the controller)";
  return "";
}

}  // namespace pier::dataplane
