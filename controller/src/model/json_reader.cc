#include "model/json_reader.h"

namespace pier::model {

std::string JsonReader::Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string JsonReader::Index(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

const char* JsonReader::TypeName(const nlohmann::json& value) noexcept {
  if (value.is_number()) return "number";  // nlohmann distinguishes integer kinds; users do not
  return value.type_name();
}

void JsonReader::Fail(const std::string& path, const std::string& why) {
  if (error_.empty()) error_ = path + ": " + why;
}

void JsonReader::WrongType(const std::string& path, const char* expected, const nlohmann::json& value) {
  Fail(path, std::string("expected ") + expected + ", got " + TypeName(value));
}

const nlohmann::json* JsonReader::Field(const nlohmann::json& parent, std::string_view key) const {
  if (failed() || !parent.is_object()) return nullptr;
  const auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return nullptr;
  return &*it;
}

const nlohmann::json* JsonReader::Object(const nlohmann::json& parent, std::string_view key,
                                         const std::string& path) {
  const nlohmann::json* value = Field(parent, key);
  if (value != nullptr && !value->is_object()) {
    WrongType(Join(path, key), "an object", *value);
    return nullptr;
  }
  return value;
}

const nlohmann::json* JsonReader::Array(const nlohmann::json& parent, std::string_view key,
                                        const std::string& path) {
  const nlohmann::json* value = Field(parent, key);
  if (value != nullptr && !value->is_array()) {
    WrongType(Join(path, key), "a list", *value);
    return nullptr;
  }
  return value;
}

std::optional<std::string> JsonReader::OptionalString(const nlohmann::json& parent, std::string_view key,
                                                      const std::string& path) {
  const nlohmann::json* value = Field(parent, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    WrongType(Join(path, key), "a string", *value);
    return std::nullopt;
  }
  return value->get_ref<const std::string&>();
}

std::string JsonReader::String(const nlohmann::json& parent, std::string_view key, const std::string& path) {
  return OptionalString(parent, key, path).value_or(std::string());
}

std::optional<int64_t> JsonReader::Integer(const nlohmann::json& parent, std::string_view key,
                                           const std::string& path, int64_t min, int64_t max) {
  const nlohmann::json* value = Field(parent, key);
  if (value == nullptr) return std::nullopt;
  int64_t number = 0;
  if (value->is_number_integer() && value->is_number_unsigned()) {
    const auto u = value->get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) {
      Fail(Join(path, key), "out of range");
      return std::nullopt;
    }
    number = static_cast<int64_t>(u);
  } else if (value->is_number_integer()) {
    number = value->get<int64_t>();
  } else if (value->is_number_float()) {
    // YAML-to-JSON converters may hand over 80.0; only integral values are integers.
    const double d = value->get<double>();
    if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<int64_t>(d))) {
      Fail(Join(path, key), "expected an integer, got " + value->dump());
      return std::nullopt;
    }
    number = static_cast<int64_t>(d);
  } else {
    WrongType(Join(path, key), "an integer", *value);
    return std::nullopt;
  }
  if (number < min || number > max) {
    Fail(Join(path, key), std::to_string(number) + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
    return std::nullopt;
  }
  return number;
}

std::optional<bool> JsonReader::Bool(const nlohmann::json& parent, std::string_view key, const std::string& path) {
  const nlohmann::json* value = Field(parent, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    WrongType(Join(path, key), "a boolean", *value);
    return std::nullopt;
  }
  return value->get<bool>();
}

std::vector<std::string> JsonReader::StringList(const nlohmann::json& parent, std::string_view key,
                                                const std::string& path) {
  std::vector<std::string> out;
  const nlohmann::json* list = Array(parent, key, path);
  if (list == nullptr) return out;
  const std::string list_path = Join(path, key);
  for (std::size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& item = (*list)[i];
    if (!item.is_string()) {
      WrongType(Index(list_path, i), "a string", item);
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> JsonReader::StringMap(const nlohmann::json& parent, std::string_view key,
                                                         const std::string& path) {
  std::map<std::string, std::string> out;
  const nlohmann::json* map = Object(parent, key, path);
  if (map == nullptr) return out;
  const std::string map_path = Join(path, key);
  for (const auto& [name, value] : map->items()) {
    if (!value.is_string()) {
      WrongType(Join(map_path, name), "a string", value);
      return {};
    }
    out.emplace(name, value.get<std::string>());
  }
  return out;
}

}  // namespace pier::model
