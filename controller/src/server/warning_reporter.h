// Logs translation warnings (manifests mode has no Events) without repeating them: every
// rebuild re-derives all warnings, so only those absent from the previous build are logged. A
// warning that goes away and comes back is logged again. New InvalidAnnotation warnings also
// count pier_controller_invalid_annotations_total.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "translate/translate.h"

namespace pier::server {

class WarningReporter final {
 public:
  // Returns the warnings that were new (and so logged).
  std::vector<translate::Warning> Report(const std::vector<translate::Warning>& warnings);

 private:
  std::set<std::string> previous_;
};

}  // namespace pier::server
