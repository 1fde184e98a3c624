// One manifest file's text -> the Kubernetes objects it holds: every YAML document, with
// `kind: List` (and typed lists such as `IngressList`, as `kubectl get -o yaml` prints them)
// expanded into their items. Which kinds the controller reads is decided later.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"

namespace pier::sources {

Result<std::vector<nlohmann::json>> ParseManifest(std::string_view text);

// "namespace/name" as model::KeyOf spells it, read straight from the JSON so that objects can be
// told apart before they are parsed: the namespace defaults to "default" like kubectl does, and
// cluster-scoped kinds have none. Empty when metadata.name is missing or not a string.
std::string ObjectKey(const nlohmann::json& object, bool cluster_scoped);

}  // namespace pier::sources
