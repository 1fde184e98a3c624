#include "sources/yaml_to_json.h"

#include <yaml.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <unordered_map>

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

// Builds JSON straight from libyaml's event stream. libyaml is a small C parser; building
// yaml-cpp's node tree first and converting it afterwards took most of the controller's start-up
// with a large manifests folder (about 85 % of 17 s for 50,000 objects, ./dev bench scenario 7).
class Converter {
 public:
  explicit Converter(std::string_view text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~Converter() { yaml_parser_delete(&parser_); }
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;

  Result<std::vector<json>> Documents() {
    std::vector<json> out;
    Event event;
    for (;;) {
      if (auto ok = Next(event); !ok) return Fail(ok.error());
      if (event->type == YAML_STREAM_END_EVENT) return out;
      if (event->type != YAML_DOCUMENT_START_EVENT) continue;  // STREAM_START
      // Anchors and the node budget are per document, as aliases cannot cross documents.
      anchors_.clear();
      nodes_ = 0;
      if (auto ok = Next(event); !ok) return Fail(ok.error());
      auto value = Node(event, 0);
      if (!value) return Fail(value.error());
      if (auto ok = Next(event); !ok) return Fail(ok.error());  // DOCUMENT_END
      if (!value->is_null()) out.push_back(std::move(*value));  // "---" with nothing, or comments only
    }
  }

 private:
  // One libyaml event, released when replaced or destroyed.
  class Event {
   public:
    Event() = default;
    ~Event() { Reset(); }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    void Reset() {
      if (valid_) yaml_event_delete(&event_);
      valid_ = false;
    }
    yaml_event_t* Raw() {
      Reset();
      return &event_;
    }
    void MarkValid() { valid_ = true; }
    const yaml_event_t* operator->() const { return &event_; }

   private:
    yaml_event_t event_{};
    bool valid_ = false;
  };

  struct Anchored {
    json value;
    std::size_t nodes;
  };

  Result<bool> Next(Event& event) {
    if (!yaml_parser_parse(&parser_, event.Raw())) {
      std::string problem = parser_.problem ? parser_.problem : "invalid YAML";
      if (parser_.context) problem = std::string(parser_.context) + ": " + problem;
      return Fail(At(parser_.problem_mark) + problem);
    }
    event.MarkValid();
    return true;
  }

  static std::string At(const yaml_mark_t& mark) {
    return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) + ": ";
  }

  static std::string Text(const unsigned char* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
  }

  // `event` is the node's first event; on return the node's events are all consumed.
  Result<json> Node(Event& event, int depth) {
    const auto mark = event->start_mark;
    if (++nodes_ > kMaxNodesPerDocument) {
      return Fail(At(mark) + "document too large (more than " + std::to_string(kMaxNodesPerDocument) +
                  " nodes after alias expansion)");
    }
    if (depth > kMaxDepth) return Fail(At(mark) + "nested more than " + std::to_string(kMaxDepth) + " levels");
    const std::size_t nodes_before = nodes_;
    std::string anchor;
    Result<json> value = json(nullptr);
    switch (event->type) {
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(event->data.alias.anchor));
        if (it == anchors_.end()) {
          return Fail(At(mark) + "unknown anchor \"" + reinterpret_cast<const char*>(event->data.alias.anchor) + "\"");
        }
        nodes_ += it->second.nodes;
        if (nodes_ > kMaxNodesPerDocument) {
          return Fail(At(mark) + "document too large (more than " + std::to_string(kMaxNodesPerDocument) +
                      " nodes after alias expansion)");
        }
        return it->second.value;
      }
      case YAML_SCALAR_EVENT:
        if (event->data.scalar.anchor) anchor = reinterpret_cast<const char*>(event->data.scalar.anchor);
        value = Scalar(event);
        break;
      case YAML_SEQUENCE_START_EVENT:
        if (event->data.sequence_start.anchor) anchor = reinterpret_cast<const char*>(event->data.sequence_start.anchor);
        value = Sequence(event, depth);
        break;
      case YAML_MAPPING_START_EVENT:
        if (event->data.mapping_start.anchor) anchor = reinterpret_cast<const char*>(event->data.mapping_start.anchor);
        value = Mapping(event, depth);
        break;
      default:
        return Fail(At(mark) + "unexpected YAML event");
    }
    if (value && !anchor.empty()) anchors_[anchor] = Anchored{*value, nodes_ - nodes_before + 1};
    return value;
  }

  Result<json> Sequence(Event& event, int depth) {
    json array = json::array();
    for (;;) {
      if (auto ok = Next(event); !ok) return Fail(ok.error());
      if (event->type == YAML_SEQUENCE_END_EVENT) return array;
      auto item = Node(event, depth + 1);
      if (!item) return item;
      array.push_back(std::move(*item));
    }
  }

  Result<json> Mapping(Event& event, int depth) {
    json object = json::object();
    for (;;) {
      if (auto ok = Next(event); !ok) return Fail(ok.error());
      if (event->type == YAML_MAPPING_END_EVENT) return object;
      const auto key_mark = event->start_mark;
      std::string key;
      if (event->type == YAML_SCALAR_EVENT) {
        key = Text(event->data.scalar.value, event->data.scalar.length);
      } else if (event->type == YAML_ALIAS_EVENT) {
        auto aliased = Node(event, depth + 1);
        if (!aliased) return aliased;
        if (!aliased->is_string()) return Fail(At(key_mark) + "mapping keys must be scalars");
        key = aliased->get<std::string>();
      } else {
        return Fail(At(key_mark) + "mapping keys must be scalars");
      }
      if (object.contains(key)) return Fail(At(key_mark) + "duplicate key \"" + key + "\"");
      if (auto ok = Next(event); !ok) return Fail(ok.error());
      auto value = Node(event, depth + 1);
      if (!value) return value;
      object[key] = std::move(*value);
    }
  }

  static Result<json> Scalar(const Event& event) {
    const auto& scalar = event->data.scalar;
    std::string text = Text(scalar.value, scalar.length);
    const char* tag_text = reinterpret_cast<const char*>(scalar.tag);
    // Only plain, untagged scalars are resolved; quoted and block scalars are strings.
    if (tag_text == nullptr) {
      if (scalar.style == YAML_PLAIN_SCALAR_STYLE) return PlainScalarToJson(text);
      return json(std::move(text));
    }
    const std::string tag = tag_text;
    if (tag == "!" || tag == kTagStr) return json(std::move(text));
    if (tag == kTagNull || tag == kTagBool || tag == kTagInt || tag == kTagFloat) {
      json value = PlainScalarToJson(text);
      const bool matches = (tag == kTagNull && value.is_null()) || (tag == kTagBool && value.is_boolean()) ||
                           (tag == kTagInt && value.is_number_integer()) || (tag == kTagFloat && value.is_number());
      if (!matches) {
        return Fail(At(event->start_mark) + "\"" + text + "\" is not a valid " + tag.substr(tag.rfind(':') + 1));
      }
      return value;
    }
    // Any other tag (e.g. !!binary, custom tags) keeps the text: Kubernetes has no use for them.
    return json(std::move(text));
  }

  yaml_parser_t parser_{};
  std::unordered_map<std::string, Anchored> anchors_;
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
  Converter converter(text);
  return converter.Documents();
}

}  // namespace pier::sources
