// Collects translation warnings in the order they are found, once each: one Service without
// endpoints behind ten paths of an Ingress is one message, not ten.
#pragma once

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "model/objects.h"
#include "translate/translate.h"

namespace pier::translate {

class WarningSink final {
 public:
  void Add(const model::Ingress& ingress, std::string reason, std::string message, std::string annotation = "");
  std::vector<Warning> Take() { return std::move(warnings_); }

 private:
  std::vector<Warning> warnings_;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> seen_;
};

}  // namespace pier::translate
