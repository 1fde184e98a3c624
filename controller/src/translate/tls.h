// spec.tls and --default-tls-secret -> TlsCertificates (one per Secret, offered for the union
// of the hosts naming it) and the certificate each host is served with.
//
// A Secret that cannot serve TLS is never shipped (the dataplane would refuse the whole
// snapshot). Its hosts keep the Secret's last good certificate from the CertificateHistory, or
// else get the default certificate; they stay TLS hosts either way (ssl-redirect applies), as
// with ingress-nginx.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"
#include "translate/translate.h"
#include "translate/warnings.h"

namespace pier::translate {

class TlsCatalog final {
 public:
  TlsCatalog(const model::ClusterState& state, const BuildContext& context) : state_(state), context_(context) {}

  // The --default-tls-secret ("namespace/name", or "" for none); call before Add.
  void SetDefault(const std::string& key);

  // Call for every served Ingress, oldest first: a host listed by two Ingresses keeps the
  // certificate of the older one.
  void Add(const model::Ingress& ingress, WarningSink& warnings);

  // Whether some served Ingress lists the host under spec.tls, itself or as a wildcard one label
  // above it (`*.example.com` covers `a.example.com`, as its certificate does): such a host
  // gets the ssl-redirect default and HSTS.
  bool HasTls(const std::string& host) const;

  // The certificate name for a host: its own Secret's (current or last good), else the
  // default's; "" when the host is not a TLS host or the dataplane's self-signed one applies.
  std::string CertificateFor(const std::string& host) const;

  // Sorted by name, SNI names sorted; fills the snapshot's certificates and default, and the
  // Output's TLS bookkeeping.
  void Finish(Output& out);

 private:
  struct Outcome {
    const CertificateMaterial* material = nullptr;  // what is served; nullptr: nothing usable
    std::string problem;  // why the Secret's current content is not served; "" when it is
    std::string expired;  // "expired at ..." when the served certificate has expired
    bool previous = false;  // material is the Secret's last good content
  };

  const Outcome& Resolve(const std::string& key);
  void Offer(const std::string& key, const CertificateMaterial& material);

  const model::ClusterState& state_;
  const BuildContext& context_;
  std::map<std::string, CertificateMaterial> good_;
  std::map<std::string, Outcome> outcomes_;
  std::map<std::string, pier::v1::TlsCertificate> certificates_;
  std::map<std::string, std::set<std::string>> sni_names_;
  std::map<std::string, std::string> host_certificate_;
  std::set<std::string> tls_hosts_;
  std::string default_name_;
  std::string default_problem_;
};

}  // namespace pier::translate
