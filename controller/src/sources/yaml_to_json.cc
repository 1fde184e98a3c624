#include "sources/yaml_to_json.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>

namespace pier::sources {
namespace {

using nlohmann::json;

// Aliases let a small file expand into a huge tree ("billion laughs"); deep nesting exhausts the
// stack. Both are far beyond any real manifest (10,000 Ingresses in one List is ~1M nodes).
constexpr std::size_t kMaxNodesPerDocument = 10'000'000;
constexpr int kMaxDepth = 200;

constexpr const char* kTagStr = "tag:yaml.org,2002:str";
constexpr const char* kTagNull = "tag:yaml.org,2002:null";
constexpr const char* kTagBool = "tag:yaml.org,2002:bool";
constexpr const char* kTagInt = "tag:yaml.org,2002:int";
constexpr const char* kTagFloat = "tag:yaml.org,2002:float";

std::string Where(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) + ": ";
}

bool IsNullWord(const std::string& s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

bool IsDigit(char c, int base) {
  if (base == 8) return c >= '0' && c <= '7';
  if (base == 16) return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  return c >= '0' && c <= '9';
}

bool AllDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c, base)) return false;
  }
  return true;
}

// Core schema ints: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+ (hand-written: std::regex is far too
// slow for the millions of scalars a large List can hold).
std::optional<json> ParseInteger(const std::string& s) {
  std::string_view digits = s;
  int base = 10;
  bool negative = false;
  if (digits.starts_with("0o")) {
    base = 8;
    digits.remove_prefix(2);
  } else if (digits.starts_with("0x")) {
    base = 16;
    digits.remove_prefix(2);
  } else if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (!AllDigits(digits, base)) return std::nullopt;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  constexpr auto kMaxSigned = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (ec == std::errc() && ptr == digits.data() + digits.size()) {
    if (!negative && magnitude <= kMaxSigned) return json(static_cast<int64_t>(magnitude));
    if (!negative) return json(magnitude);
    if (magnitude <= kMaxSigned) return json(-static_cast<int64_t>(magnitude));
    if (magnitude == kMaxSigned + 1) return json(std::numeric_limits<int64_t>::min());
  }
  // Beyond 64 bits: a JSON decoder reads a decimal as a float; a huge hex/octal stays text.
  if (base == 10) return json(std::strtod(s.c_str(), nullptr));
  return json(s);
}

// Core schema floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, plus .inf/.nan forms.
std::optional<json> ParseFloat(const std::string& s) {
  std::string_view rest = s;
  if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) rest.remove_prefix(1);
  // JSON has no Inf/NaN and nothing we read is a float: keep them as the text they were.
  if (rest == ".inf" || rest == ".Inf" || rest == ".INF") return json(s);
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return json(s);
  auto take_digits = [&rest] {
    std::size_t n = 0;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    rest.remove_prefix(n);
    return n;
  };
  const std::size_t integer_digits = take_digits();
  std::size_t fraction_digits = 0;
  bool has_dot = false;
  if (!rest.empty() && rest.front() == '.') {
    has_dot = true;
    rest.remove_prefix(1);
    fraction_digits = take_digits();
  }
  if (integer_digits == 0 && (!has_dot || fraction_digits == 0)) return std::nullopt;
  if (!rest.empty() && (rest.front() == 'e' || rest.front() == 'E')) {
    rest.remove_prefix(1);
    if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) rest.remove_prefix(1);
    if (take_digits() == 0) return std::nullopt;
  }
  if (!rest.empty()) return std::nullopt;
  return json(std::strtod(s.c_str(), nullptr));
}

class Converter {
 public:
  Result<json> Convert(const YAML::Node& node, int depth) {
    if (++nodes_ > kMaxNodesPerDocument) {
      return Fail(Where(node.Mark()) + "document too large (more than " + std::to_string(kMaxNodesPerDocument) +
                  " nodes after alias expansion)");
    }
    if (depth > kMaxDepth) return Fail(Where(node.Mark()) + "nested more than " + std::to_string(kMaxDepth) + " levels");
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar:
        return Scalar(node);
      case YAML::NodeType::Sequence: {
        json array = json::array();
        for (const auto& item : node) {
          auto value = Convert(item, depth + 1);
          if (!value) return value;
          array.push_back(std::move(*value));
        }
        return array;
      }
      case YAML::NodeType::Map: {
        json object = json::object();
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) return Fail(Where(entry.first.Mark()) + "mapping keys must be scalars");
          const std::string& key = entry.first.Scalar();
          if (object.contains(key)) return Fail(Where(entry.first.Mark()) + "duplicate key \"" + key + "\"");
          auto value = Convert(entry.second, depth + 1);
          if (!value) return value;
          object[key] = std::move(*value);
        }
        return object;
      }
    }
    return json(nullptr);
  }

 private:
  static Result<json> Scalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    // yaml-cpp tags quoted and block scalars "!", plain ones "?": only plain ones are resolved.
    if (tag == "!" || tag == kTagStr) return json(text);
    if (tag == "?" || tag.empty()) return PlainScalarToJson(text);
    if (tag == kTagNull || tag == kTagBool || tag == kTagInt || tag == kTagFloat) {
      json value = PlainScalarToJson(text);
      const bool matches = (tag == kTagNull && value.is_null()) || (tag == kTagBool && value.is_boolean()) ||
                           (tag == kTagInt && value.is_number_integer()) ||
                           (tag == kTagFloat && value.is_number());
      if (!matches) return Fail(Where(node.Mark()) + "\"" + text + "\" is not a valid " + tag.substr(tag.rfind(':') + 1));
      return value;
    }
    // Any other tag (e.g. !!binary, custom tags) keeps the text: Kubernetes has no use for them.
    return json(text);
  }

  std::size_t nodes_ = 0;
};

}  // namespace

json PlainScalarToJson(const std::string& text) {
  if (IsNullWord(text)) return json(nullptr);
  if (text == "true" || text == "True" || text == "TRUE") return json(true);
  if (text == "false" || text == "False" || text == "FALSE") return json(false);
  if (auto integer = ParseInteger(text)) return *integer;
  if (auto number = ParseFloat(text)) return *number;
  return json(text);
}

Result<std::vector<json>> YamlDocumentsToJson(std::string_view text) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return Fail(Where(e.mark) + e.msg);
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  std::vector<json> out;
  out.reserve(documents.size());
  for (const auto& document : documents) {
    if (document.IsNull()) continue;  // "---" separators with nothing between, or comments only
    Converter converter;
    Result<json> value = Fail("unreachable");
    try {
      value = converter.Convert(document, 0);
    } catch (const YAML::Exception& e) {
      return Fail(Where(e.mark) + e.msg);
    }
    if (!value) return Fail(value.error());
    out.push_back(std::move(*value));
  }
  return out;
}

}  // namespace pier::sources
