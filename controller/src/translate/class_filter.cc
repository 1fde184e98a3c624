// Which Ingresses are ours, per networking.k8s.io/v1 class rules.
#include "translate/translate.h"

namespace pier::translate {
namespace {

constexpr const char* kLegacyClassAnnotation = "kubernetes.io/ingress.class";
constexpr const char* kDefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";

bool IsOurDefaultClass(const model::IngressClass& ingress_class, const Options& options) {
  if (ingress_class.controller != options.controller_name) return false;
  const auto it = ingress_class.meta.annotations.find(kDefaultClassAnnotation);
  return it != ingress_class.meta.annotations.end() && it->second == "true";
}

}  // namespace

bool IsOurs(const model::Ingress& ingress, const model::ClusterState& state, const Options& options) {
  if (!options.namespace_.empty() && ingress.meta.namespace_ != options.namespace_) return false;

  // The deprecated annotation predates IngressClass and, when set, is what the user meant.
  if (const auto it = ingress.meta.annotations.find(kLegacyClassAnnotation); it != ingress.meta.annotations.end()) {
    return it->second == options.ingress_class;
  }
  if (ingress.ingress_class_name) {
    const auto it = state.ingress_classes.find(*ingress.ingress_class_name);
    return it != state.ingress_classes.end() && it->second.controller == options.controller_name;
  }
  if (options.watch_ingress_without_class) return true;
  for (const auto& [name, ingress_class] : state.ingress_classes) {
    if (IsOurDefaultClass(ingress_class, options)) return true;
  }
  return false;
}

}  // namespace pier::translate
