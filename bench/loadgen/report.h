// pier-loadgen's output: one JSON object (for ./dev bench) or a short human table.
#pragma once

#include <string>

#include "modes.h"

namespace pier::bench {

std::string ModeName(Mode mode);
std::string ReportJson(const LoadOptions& options, const LoadResult& result);
std::string ReportTable(const LoadOptions& options, const LoadResult& result);

}  // namespace pier::bench
