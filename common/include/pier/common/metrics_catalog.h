// The metric reference of docs/metrics.md, rendered from what a process actually registers:
// each binary's catalog tool registers every family exactly as the binary does and prints this,
// and a test fails when the document and the registry disagree.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace pier::metrics {

// One Markdown table, one row per family, sorted by name: name, type, labels (with their values,
// or what a free-form label holds), histogram buckets, help. Families of the same name are merged.
std::string RenderCatalogMarkdown(const std::vector<prometheus::MetricFamily>& families);

// "name type" per line, sorted: the plain list other checks (dashboard, alerts) read.
std::string RenderCatalogNames(const std::vector<prometheus::MetricFamily>& families);

}  // namespace pier::metrics
