// The annotation registry: one row per annotation with its metadata and its parser, read under
// pier.dev/ with ingress-nginx aliases. Adding an annotation = one field in IngressAnnotations,
// one parser, one row in the table (registry.cc); docs follow from the table.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "annotations/ingress_annotations.h"
#include "pier/common/result.h"

namespace pier::annotations {

inline constexpr std::string_view kPrefix = "pier.dev/";
inline constexpr std::string_view kNginxPrefix = "nginx.ingress.kubernetes.io/";

struct AnnotationSpec {
  std::string_view key;  // without prefix, e.g. "proxy-read-timeout"
  std::string_view value_type;  // for docs: "duration", "bool", "CIDR list", ...
  std::string_view default_value;  // for docs
  // Non-zero for security annotations: an invalid value makes the Ingress' routes answer
  // this status instead of silently running without the protection.
  uint32_t fail_closed_status = 0;
  std::string_view doc;  // one line
  // Further full keys accepted as aliases, after pier.dev/<key> and nginx.ingress.kubernetes.io/<key>.
  std::span<const std::string_view> extra_aliases;
  // Parses the (trimmed) value into its field; on error the field keeps its default.
  Result<bool> (*parse)(std::string_view value, IngressAnnotations& out) = nullptr;

  bool security() const noexcept { return fail_closed_status != 0; }
};

// Every annotation, in documentation order.
std::span<const AnnotationSpec> Registry();
const AnnotationSpec* Find(std::string_view key);

// A bad value, an unknown pier.dev/ key, or an nginx.ingress.kubernetes.io/ key Pier does not
// implement.
struct Problem {
  std::string key;  // the full key as written, e.g. "nginx.ingress.kubernetes.io/proxy-read-timeout"
  std::string value;
  std::string why;
  bool unknown = false;  // an unknown pier.dev/ key rather than a bad value
  bool security = false;  // the routes fail closed because of it
  bool unsupported = false;  // an ingress-nginx key Pier does not implement
};

struct ParseOutput {
  IngressAnnotations values;
  // In registry order, then unknown pier.dev/ keys, then unsupported ingress-nginx keys, each
  // in key order.
  std::vector<Problem> problems;
};

// Reads an Ingress' metadata.annotations. A pier.dev/ key wins over its aliases.
ParseOutput Parse(const std::map<std::string, std::string>& annotations);

// The full key under which `key` (without prefix) is written on an Ingress: pier.dev/<key> when
// present (it wins), else the ingress-nginx alias. For warnings about a value found later.
std::string WrittenKey(const std::map<std::string, std::string>& annotations, std::string_view key);

// The annotation reference (docs/annotations.md) generated from the table.
std::string RenderMarkdown();

}  // namespace pier::annotations
