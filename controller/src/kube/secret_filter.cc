#include "kube/secret_filter.h"

#include <nlohmann/json.hpp>

namespace pier::kube {

bool KeepSecret(const nlohmann::json& object) {
  if (!object.is_object()) return false;
  if (const auto type = object.find("type"); type != object.end() && type->is_string() &&
                                             type->get_ref<const std::string&>() == "kubernetes.io/tls") {
    return true;
  }
  const auto data = object.find("data");
  return data != object.end() && data->is_object() && data->contains("ca.crt");
}

}  // namespace pier::kube
