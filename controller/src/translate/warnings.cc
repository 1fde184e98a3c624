#include "translate/warnings.h"

namespace pier::translate {

void WarningSink::Add(const model::Ingress& ingress, std::string reason, std::string message, std::string annotation) {
  if (!seen_.emplace(model::KeyOf(ingress.meta), reason, message, annotation).second) return;
  warnings_.push_back(Warning{ingress.meta.namespace_, ingress.meta.name, std::move(reason), std::move(message),
                              std::move(annotation)});
}

}  // namespace pier::translate
