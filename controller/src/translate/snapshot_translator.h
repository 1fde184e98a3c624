// Translate() with the memory it needs between builds: the last good certificate of every TLS
// Secret, and the clusters of the last build (ClusterCache). The event loop calls it for every build, always on its own thread.
#pragma once

#include <set>
#include <string>

#include "translate/certificate_history.h"
#include "translate/translate.h"

namespace pier::translate {

class SnapshotTranslator final {
 public:
  explicit SnapshotTranslator(Options options);

  // Builds with the history and the wall clock, then records the build's good certificates.
  // A default TLS Secret that cannot be used is logged when its problem changes; the number of
  // rejected TLS Secrets is pier_controller_tls_secrets_rejected.
  Output operator()(const model::ClusterState& state);

  const CertificateHistory& history() const noexcept { return history_; }

 private:
  const Options options_;
  CertificateHistory history_;
  ClusterCache clusters_;
  std::string default_problem_;
  std::string default_backend_problem_;
};

}  // namespace pier::translate
