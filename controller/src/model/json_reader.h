// Reads typed fields out of Kubernetes JSON without letting nlohmann's type exceptions escape.
// The first wrong-typed field is remembered with its full path ("spec.rules[0].host") and every
// later read is a no-op, so a From*Json function reads straight through and checks once.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pier::model {

class JsonReader final {
 public:
  // Absent and null fields read as "not set"; a present field of the wrong type is an error.
  const nlohmann::json* Object(const nlohmann::json& parent, std::string_view key, const std::string& path);
  const nlohmann::json* Array(const nlohmann::json& parent, std::string_view key, const std::string& path);
  std::string String(const nlohmann::json& parent, std::string_view key, const std::string& path);
  std::optional<std::string> OptionalString(const nlohmann::json& parent, std::string_view key,
                                            const std::string& path);
  std::optional<int64_t> Integer(const nlohmann::json& parent, std::string_view key, const std::string& path,
                                 int64_t min, int64_t max);
  std::optional<bool> Bool(const nlohmann::json& parent, std::string_view key, const std::string& path);
  std::vector<std::string> StringList(const nlohmann::json& parent, std::string_view key, const std::string& path);
  std::map<std::string, std::string> StringMap(const nlohmann::json& parent, std::string_view key,
                                               const std::string& path);

  // Records an error about a field (first one wins).
  void Fail(const std::string& path, const std::string& why);

  bool failed() const noexcept { return !error_.empty(); }
  const std::string& error() const noexcept { return error_; }

  static std::string Join(const std::string& path, std::string_view key);
  static std::string Index(const std::string& path, std::size_t index);
  static const char* TypeName(const nlohmann::json& value) noexcept;

 private:
  const nlohmann::json* Field(const nlohmann::json& parent, std::string_view key) const;
  void WrongType(const std::string& path, const char* expected, const nlohmann::json& value);

  std::string error_;
};

}  // namespace pier::model
