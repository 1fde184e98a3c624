// YAML -> JSON for Kubernetes manifests. Scalars are typed by the YAML 1.2 core schema, the same
// way the API server's decoder sees JSON: quoted and block scalars are always strings (so
// `port: "80"` stays a string and a wrong type is reported by the model, not silently coerced),
// plain `true`/`false` are booleans, plain integers and floats are numbers, `null`/`~`/empty are
// null. YAML 1.1 words such as `yes`/`on` are plain strings.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"

namespace pier::sources {

// Every document of a multi-document stream, in order; empty documents are dropped. An error
// names the line and column (1-based) of the problem: "line 3, column 7: ...".
Result<std::vector<nlohmann::json>> YamlDocumentsToJson(std::string_view text);

// How a plain (unquoted) scalar reads under the core schema.
nlohmann::json PlainScalarToJson(const std::string& text);

}  // namespace pier::sources
