// spec.tls -> TlsCertificates (one per Secret, offered for the union of the hosts naming it)
// and the certificate each host is served with.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"
#include "translate/warnings.h"

namespace pier::translate {

class TlsCatalog final {
 public:
  // Call for every served Ingress, oldest first: a host listed by two Ingresses keeps the
  // certificate of the older one.
  void Add(const model::Ingress& ingress, const model::ClusterState& state, WarningSink& warnings);

  // The certificate name for a host, or "" when the host is not served over TLS.
  std::string CertificateFor(const std::string& host) const;

  // Sorted by name, SNI names sorted.
  std::vector<pier::v1::TlsCertificate> TakeCertificates();

 private:
  std::map<std::string, pier::v1::TlsCertificate> certificates_;
  std::map<std::string, std::set<std::string>> sni_names_;
  std::map<std::string, std::string> host_certificate_;
};

}  // namespace pier::translate
