#include "kube/secret_filter.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "kube/resource.h"

namespace pier::kube {
namespace {

// Keys of the Secrets passed on, so a deletion is reported only for what the consumer holds.
struct KeptSecrets {
  std::mutex mutex;
  std::set<std::string> keys;
};

}  // namespace

bool KeepSecret(const nlohmann::json& object) {
  if (!object.is_object()) return false;
  if (const auto type = object.find("type"); type != object.end() && type->is_string() &&
                                             type->get_ref<const std::string&>() == "kubernetes.io/tls") {
    return true;
  }
  const auto data = object.find("data");
  return data != object.end() && data->is_object() && (data->contains("ca.crt") || data->contains("auth"));
}

InformerCallbacks FilteringSecrets(InformerCallbacks inner) {
  auto kept = std::make_shared<KeptSecrets>();
  InformerCallbacks out = inner;
  out.on_replace = [inner, kept](model::Kind kind, std::vector<nlohmann::json> objects) {
    if (kind == model::Kind::kSecret) {
      std::erase_if(objects, [](const nlohmann::json& object) { return !KeepSecret(object); });
      std::lock_guard lock(kept->mutex);
      kept->keys.clear();
      for (const auto& object : objects) kept->keys.insert(ObjectKey(object));
    }
    inner.on_replace(kind, std::move(objects));
  };
  out.on_upsert = [inner, kept](model::Kind kind, nlohmann::json object) {
    if (kind == model::Kind::kSecret) {
      std::string key = ObjectKey(object);
      bool was_kept = false;
      const bool keep = KeepSecret(object);
      {
        std::lock_guard lock(kept->mutex);
        was_kept = keep ? !kept->keys.insert(key).second : kept->keys.erase(key) > 0;
      }
      if (!keep) {
        if (was_kept) inner.on_delete(kind, std::move(key));
        return;
      }
    }
    inner.on_upsert(kind, std::move(object));
  };
  out.on_delete = [inner, kept](model::Kind kind, std::string key) {
    if (kind == model::Kind::kSecret) {
      std::lock_guard lock(kept->mutex);
      if (kept->keys.erase(key) == 0) return;
    }
    inner.on_delete(kind, std::move(key));
  };
  return out;
}

}  // namespace pier::kube
