// The last good certificate of every TLS Secret, kept between builds so that a Secret updated
// with garbage or a mismatched key does not take TLS away from its hosts: the translator serves
// the previous good material instead. It lives outside the (pure) translator and is passed in,
// so a build is still a function of (state, history).
#pragma once

#include <map>
#include <string>

#include "model/objects.h"
#include "translate/tls_secret.h"

namespace pier::translate {

class CertificateHistory final {
 public:
  // The last good material of Secret `key` ("namespace/name"), if it came from the Secret that
  // exists now (same uid): a deleted and recreated Secret starts with no history.
  const CertificateMaterial* LastGood(const std::string& key, const model::ClusterState& state) const;

  // After a build: remember what it found good, and forget every Secret that no longer exists
  // or was recreated, so deleting a Secret really takes its certificate away.
  void Update(const std::map<std::string, CertificateMaterial>& good, const model::ClusterState& state);

  std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::map<std::string, CertificateMaterial> entries_;
};

}  // namespace pier::translate
