#include "sources/manifest_file.h"

#include "sources/yaml_to_json.h"

namespace pier::sources {
namespace {

using nlohmann::json;

bool IsList(const json& object) {
  const auto kind = object.find("kind");
  if (kind == object.end() || !kind->is_string()) return false;
  const auto& name = kind->get_ref<const std::string&>();
  return name.size() >= 4 && name.ends_with("List") && object.contains("items");
}

// Items of a typed list (ServiceList) come without kind/apiVersion: they inherit them.
Result<bool> ExpandList(const json& list, std::size_t document, std::vector<json>& out) {
  const auto& items = list["items"];
  if (items.is_null()) return true;
  if (!items.is_array()) return Fail("document " + std::to_string(document) + ": List items must be a sequence");
  const std::string list_kind = list["kind"].get<std::string>();
  const std::string item_kind = list_kind == "List" ? "" : list_kind.substr(0, list_kind.size() - 4);
  for (std::size_t i = 0; i < items.size(); ++i) {
    json item = items[i];
    if (!item.is_object()) {
      return Fail("document " + std::to_string(document) + ": List item " + std::to_string(i) + " is not a mapping");
    }
    if (!item_kind.empty()) {
      if (!item.contains("kind")) item["kind"] = item_kind;
      if (!item.contains("apiVersion") && list.contains("apiVersion")) item["apiVersion"] = list["apiVersion"];
    }
    if (IsList(item)) {
      auto nested = ExpandList(item, document, out);
      if (!nested) return nested;
      continue;
    }
    out.push_back(std::move(item));
  }
  return true;
}

}  // namespace

Result<std::vector<json>> ParseManifest(std::string_view text) {
  auto documents = YamlDocumentsToJson(text);
  if (!documents) return Fail(documents.error());
  std::vector<json> objects;
  for (std::size_t i = 0; i < documents->size(); ++i) {
    json& document = (*documents)[i];
    if (!document.is_object()) {
      return Fail("document " + std::to_string(i + 1) + " is a " + document.type_name() + ", not a mapping");
    }
    if (IsList(document)) {
      auto expanded = ExpandList(document, i + 1, objects);
      if (!expanded) return Fail(expanded.error());
      continue;
    }
    objects.push_back(std::move(document));
  }
  return objects;
}

std::string ObjectKey(const json& object, bool cluster_scoped) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  const auto name = metadata->find("name");
  if (name == metadata->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) return "";
  if (cluster_scoped) return name->get<std::string>();
  std::string ns = "default";
  const auto namespace_field = metadata->find("namespace");
  if (namespace_field != metadata->end() && namespace_field->is_string() &&
      !namespace_field->get_ref<const std::string&>().empty()) {
    ns = namespace_field->get<std::string>();
  }
  return ns + "/" + name->get<std::string>();
}

}  // namespace pier::sources
