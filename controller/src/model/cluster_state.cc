#include <nlohmann/json.hpp>

#include <atomic>


#include "model/objects.h"

namespace pier::model {
namespace {

using nlohmann::json;

// Whether replacing `old_object` with `new_object` changes anything the translator reads. The
// resourceVersion moves on every write, including our own status updates, which must not
// trigger a rebuild.
template <class T>
bool SameContent(const T& old_object, T new_object) {
  new_object.meta.resource_version = old_object.meta.resource_version;
  return old_object == new_object;
}

template <class T>
bool Store(std::map<std::string, T>& objects, T object) {
  std::string key = KeyOf(object.meta);
  auto it = objects.find(key);
  if (it == objects.end()) {
    objects.emplace(std::move(key), std::move(object));
    return true;
  }
  const bool changed = !SameContent(it->second, object);
  it->second = std::move(object);
  return changed;
}

// Parses every object of one kind into a fresh map, or fails naming each bad object.
template <class T, class Parse>
Result<std::map<std::string, T>> ParseAll(const std::vector<json>& objects, Kind kind, Parse parse) {
  std::map<std::string, T> out;
  std::string errors;
  for (const json& object : objects) {
    const auto object_kind = KindOf(object);
    if (object_kind != kind) {
      errors += std::string(errors.empty() ? "" : "; ") + "not a " + KindName(kind) + " object";
      continue;
    }
    auto parsed = parse(object);
    if (!parsed) {
      errors += (errors.empty() ? "" : "; ") + parsed.error();
      continue;
    }
    std::string key = KeyOf(parsed->meta);
    out.insert_or_assign(std::move(key), std::move(*parsed));
  }
  if (!errors.empty()) return Fail(errors);
  return out;
}

template <class T>
bool ReplaceMap(std::map<std::string, T>& current, std::map<std::string, T> next) {
  bool changed = current.size() != next.size();
  for (auto& [key, object] : next) {
    auto it = current.find(key);
    if (it == current.end() || !SameContent(it->second, object)) changed = true;
  }
  current = std::move(next);
  return changed;
}

std::atomic<uint64_t> g_backend_revision{0};

void Touch(std::map<std::string, uint64_t>& revisions, const std::string& service_key) {
  revisions[service_key] = ++g_backend_revision;
}

std::string SliceServiceKey(const EndpointSlice& slice) {
  return slice.service_name.empty() ? std::string() : slice.meta.namespace_ + "/" + slice.service_name;
}

template <class T, class Parse>
Result<bool> Replace(std::map<std::string, T>& current, const std::vector<json>& objects, Kind kind, Parse parse) {
  auto next = ParseAll<T>(objects, kind, parse);
  if (!next) return Fail(next.error());
  return ReplaceMap(current, std::move(*next));
}

}  // namespace

std::string KeyOf(const ObjectMeta& meta) {
  return meta.namespace_.empty() ? meta.name : meta.namespace_ + "/" + meta.name;
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kIngress: return "Ingress";
    case Kind::kIngressClass: return "IngressClass";
    case Kind::kService: return "Service";
    case Kind::kEndpointSlice: return "EndpointSlice";
    case Kind::kSecret: return "Secret";
  }
  return "Unknown";
}

std::optional<Kind> KindOf(const json& object) {
  if (!object.is_object()) return std::nullopt;
  const auto api_version = object.find("apiVersion");
  const auto kind = object.find("kind");
  if (api_version == object.end() || kind == object.end() || !api_version->is_string() || !kind->is_string()) {
    return std::nullopt;
  }
  const auto& version = api_version->get_ref<const std::string&>();
  const auto& name = kind->get_ref<const std::string&>();
  if (version == "networking.k8s.io/v1") {
    if (name == "Ingress") return Kind::kIngress;
    if (name == "IngressClass") return Kind::kIngressClass;
  } else if (version == "v1") {
    if (name == "Service") return Kind::kService;
    if (name == "Secret") return Kind::kSecret;
  } else if (version == "discovery.k8s.io/v1") {
    if (name == "EndpointSlice") return Kind::kEndpointSlice;
  }
  return std::nullopt;
}

Result<bool> ClusterState::Upsert(const json& object) {
  const auto kind = KindOf(object);
  if (!kind) {
    std::string what = "unknown";
    if (object.is_object() && object.contains("kind") && object.contains("apiVersion")) {
      what = object["apiVersion"].dump() + " " + object["kind"].dump();
    }
    return Fail("not an object the controller reads (" + what + ")");
  }
  switch (*kind) {
    case Kind::kIngress: {
      auto parsed = IngressFromJson(object);
      if (!parsed) return Fail(parsed.error());
      return Store(ingresses, std::move(*parsed));
    }
    case Kind::kIngressClass: {
      auto parsed = IngressClassFromJson(object);
      if (!parsed) return Fail(parsed.error());
      return Store(ingress_classes, std::move(*parsed));
    }
    case Kind::kService: {
      auto parsed = ServiceFromJson(object);
      if (!parsed) return Fail(parsed.error());
      std::string key = KeyOf(parsed->meta);
      const bool changed = Store(services, std::move(*parsed));
      if (changed) Touch(backend_revisions, key);
      return changed;
    }
    case Kind::kEndpointSlice: {
      auto parsed = EndpointSliceFromJson(object);
      if (!parsed) return Fail(parsed.error());
      // The slice may have moved from one Service to another: both change.
      std::string before;
      if (const auto it = endpoint_slices.find(KeyOf(parsed->meta)); it != endpoint_slices.end()) {
        before = SliceServiceKey(it->second);
      }
      std::string after = SliceServiceKey(*parsed);
      const bool changed = Store(endpoint_slices, std::move(*parsed));
      if (changed) {
        if (!before.empty()) Touch(backend_revisions, before);
        if (!after.empty()) Touch(backend_revisions, after);
      }
      return changed;
    }
    case Kind::kSecret: {
      auto parsed = SecretFromJson(object);
      if (!parsed) return Fail(parsed.error());
      return Store(secrets, std::move(*parsed));
    }
  }
  return Fail("unhandled kind");
}

bool ClusterState::Remove(Kind kind, const std::string& key) {
  switch (kind) {
    case Kind::kIngress: return ingresses.erase(key) > 0;
    case Kind::kIngressClass: return ingress_classes.erase(key) > 0;
    case Kind::kService: {
      if (services.erase(key) == 0) return false;
      backend_revisions.erase(key);  // no revision: never cached
      return true;
    }
    case Kind::kEndpointSlice: {
      const auto it = endpoint_slices.find(key);
      if (it == endpoint_slices.end()) return false;
      if (std::string service = SliceServiceKey(it->second); !service.empty()) Touch(backend_revisions, service);
      endpoint_slices.erase(it);
      return true;
    }
    case Kind::kSecret: return secrets.erase(key) > 0;
  }
  return false;
}

Result<bool> ClusterState::ReplaceAll(Kind kind, const std::vector<json>& objects) {
  switch (kind) {
    case Kind::kIngress: return Replace(ingresses, objects, kind, IngressFromJson);
    case Kind::kIngressClass: return Replace(ingress_classes, objects, kind, IngressClassFromJson);
    case Kind::kService:
    case Kind::kEndpointSlice: {
      // A relist is rare (a watch that expired): every Service it may touch counts as changed.
      auto touch_all = [this] {
        for (const auto& [key, service] : services) Touch(backend_revisions, key);
        for (const auto& [key, slice] : endpoint_slices) {
          if (std::string service = SliceServiceKey(slice); !service.empty()) Touch(backend_revisions, service);
        }
      };
      Result<bool> replaced = kind == Kind::kService ? Replace(services, objects, kind, ServiceFromJson)
                                                     : Replace(endpoint_slices, objects, kind, EndpointSliceFromJson);
      if (replaced && *replaced) touch_all();
      return replaced;
    }
    case Kind::kSecret: return Replace(secrets, objects, kind, SecretFromJson);
  }
  return Fail("unhandled kind");
}

}  // namespace pier::model
