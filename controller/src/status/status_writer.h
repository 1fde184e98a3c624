// Writes status.loadBalancer.ingress through the /status subresource (PUT, the one verb the
// chart's RBAC grants on ingresses/status) for the Ingresses whose status differs from what it
// should be. The informer's copy decides whether a write is needed; the write itself starts
// from a fresh GET so it carries the current resourceVersion (409 Conflict: read again).
#pragma once

#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "kube/kube_client.h"
#include "status/ingress_status.h"

namespace pier::status {

// One Ingress as the informer last saw it.
struct IngressStatusView {
  std::string namespace_;
  std::string name;
  std::string resource_version;
  Addresses current;
  bool served = false;
};

struct StatusSyncResult {
  int written = 0;
  int failed = 0;  // to be retried (with backoff) by the caller
};

class StatusWriter final {
 public:
  explicit StatusWriter(kube::KubeClient& client) : client_(client) {}

  StatusSyncResult Sync(const std::vector<IngressStatusView>& ingresses, const Addresses& published,
                        std::stop_token stop = {});
  // Forget what was written (after losing leadership, someone else may have written since).
  void Reset() { written_.clear(); }

 private:
  enum class WriteResult { kWritten, kUnchanged, kGone, kFailed };
  WriteResult Write(const IngressStatusView& view, const Addresses& published);

  struct Written {
    std::string seen_resource_version;  // the informer's version when we wrote
    Addresses status;
  };

  kube::KubeClient& client_;
  // Until the informer delivers our own write, its copy still shows the old status; this keeps
  // us from writing the same thing again meanwhile.
  std::map<std::string, Written> written_;
};

}  // namespace pier::status
