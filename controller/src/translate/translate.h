// Cluster state -> snapshot. A pure, deterministic function: the same state and options always
// give the same snapshot (byte for byte, version aside), so the server can skip pushes that change
// nothing and tests can compare whole outputs.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"
#include "translate/certificate_history.h"
#include "translate/cluster_cache.h"

namespace pier::translate {

struct Options {
  std::string ingress_class = "pier";
  std::string controller_name = "pier.dev/ingress-controller";
  bool watch_ingress_without_class = false;
  std::string namespace_;  // "" = all namespaces
  pier::v1::Defaults defaults;  // filled from the global defaults
  // --default-tls-secret "namespace/name": the certificate for unknown SNI and for TLS hosts
  // whose own Secret is unusable; "" = the dataplane's self-signed one.
  std::string default_tls_secret;
  // --enable-ssl-passthrough: the ssl-passthrough annotation takes effect; without it, it is
  // reported and TLS ends in the dataplane as for any host.
  bool enable_ssl_passthrough = false;
  // --default-backend-service "namespace/name" (ingress-nginx's flag): the Service (its first
  // port) that gets what no Ingress serves, the path "/" of every host without one and of
  // unknown hosts, and the error pages of custom-http-errors without default-backend; "" = none
  // (Pier answers 404 itself).
  std::string default_backend_service;
};

// What a build may read besides the cluster state; both are explicit so a build stays a pure
// function of its inputs.
struct BuildContext {
  // The last good certificate per Secret; nullptr: a bad Secret has no fallback but the default.
  const CertificateHistory* history = nullptr;
  // For "certificate expired" warnings; nullopt: expiry is not checked.
  std::optional<std::chrono::system_clock::time_point> now;
  // Clusters of earlier builds to reuse; nullptr: every cluster is built. Only for a state
  // changed through its Upsert/Remove/ReplaceAll (see ClusterState::backend_revisions).
  ClusterCache* clusters = nullptr;
};

// Something a user should be told about one Ingress (a Warning Event in cluster mode, a log
// line in manifests mode). `reason` is one of InvalidAnnotation, UnknownAnnotation,
// UnsupportedAnnotation, ConflictingPath, BadTLSSecret, MissingService, NoEndpoints, UnsupportedBackend, InvalidPath,
// InvalidHost, ConflictingClientAuth, ConflictingSslCiphers, ConflictingPassthrough, PassthroughHost,
// PassthroughDisabled, ...
struct Warning {
  std::string ingress_namespace;
  std::string ingress_name;
  std::string reason;
  std::string message;
  std::string annotation;  // the key, for the *Annotation reasons (InvalidAnnotation's metric label)
};

struct Output {
  // version and controller_instance are left 0/"": the server stamps them.
  pier::v1::Snapshot snapshot;
  std::vector<Warning> warnings;
  // namespace/name of every Ingress this controller serves (for status updates).
  std::vector<std::string> served_ingresses;
  // TLS Secrets that passed every check in this build (for the next build's history).
  std::map<std::string, CertificateMaterial> good_certificates;
  // "namespace/name" of every TLS Secret in use (named by a served Ingress or the default) that
  // failed its checks, sorted.
  std::vector<std::string> rejected_secrets;
  // Why --default-tls-secret is not used as is ("" = fine or not set); it concerns no Ingress,
  // so it is not a Warning.
  std::string default_certificate_problem;
  // Why --default-backend-service does not serve ("" = fine or not set), likewise.
  std::string default_backend_problem;
};

// Whether this Ingress belongs to us under the class rules (legacy annotation wins, then
// spec.ingressClassName, then the default-class / watch-without-class rules).
bool IsOurs(const model::Ingress& ingress, const model::ClusterState& state, const Options& options);

Output Translate(const model::ClusterState& state, const Options& options, const BuildContext& context = {});

}  // namespace pier::translate
