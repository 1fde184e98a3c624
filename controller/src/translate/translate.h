// Cluster state -> snapshot. A pure, deterministic function: the same state and options always
// give the same snapshot (byte for byte, version aside), so the server can skip pushes that change
// nothing and tests can compare whole outputs.
#pragma once

#include <string>
#include <vector>

#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::translate {

struct Options {
  std::string ingress_class = "pier";
  std::string controller_name = "pier.dev/ingress-controller";
  bool watch_ingress_without_class = false;
  std::string namespace_;  // "" = all namespaces
  pier::v1::Defaults defaults;  // filled from the global defaults
};

// Something a user should be told about one Ingress (a Warning Event in cluster mode, a log
// line in manifests mode). `reason` is one of InvalidAnnotation, UnknownAnnotation,
// ConflictingPath, BadTLSSecret, MissingService, NoEndpoints, UnsupportedBackend, InvalidPath,
// InvalidHost.
struct Warning {
  std::string ingress_namespace;
  std::string ingress_name;
  std::string reason;
  std::string message;
  std::string annotation;  // the key, for InvalidAnnotation/UnknownAnnotation (metric label)
};

struct Output {
  // version and controller_instance are left 0/"": the server stamps them.
  pier::v1::Snapshot snapshot;
  std::vector<Warning> warnings;
  // namespace/name of every Ingress this controller serves (for status updates).
  std::vector<std::string> served_ingresses;
};

// Whether this Ingress belongs to us under the class rules (legacy annotation wins, then
// spec.ingressClassName, then the default-class / watch-without-class rules).
bool IsOurs(const model::Ingress& ingress, const model::ClusterState& state, const Options& options);

Output Translate(const model::ClusterState& state, const Options& options);

}  // namespace pier::translate
