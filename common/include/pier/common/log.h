// Process-wide logging on spdlog: human text or one JSON object per line.
#pragma once

#include <string>
#include <string_view>

#include "pier/common/result.h"

namespace pier::log {

enum class Format { kText, kJson };

struct Options {
  Format format = Format::kText;
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  std::string component;       // "controller" or "dataplane": the logger name
};

// Installs the default spdlog logger. Call once from main before anything logs.
Result<bool> Init(const Options& options);

Result<Format> ParseFormat(std::string_view text);

// Escapes a string for inclusion inside a JSON string literal (no surrounding quotes).
std::string JsonEscape(std::string_view text);

}  // namespace pier::log
