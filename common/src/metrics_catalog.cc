#include "pier/common/metrics_catalog.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

namespace pier::metrics {
namespace {

// Labels whose values come from the cluster or the traffic rather than from a fixed list; the
// catalog says what they hold instead of listing the catalog tool's example values.
const std::map<std::string, std::string, std::less<>>& FreeFormLabels() {
  static const std::map<std::string, std::string, std::less<>> kLabels = {
      {"code", "HTTP status code sent to the client (`200`, `404`, `503`, ...)"},
      {"version", "the build's version, as `--version` prints it"},
      {"secret", "`namespace/name` of the TLS Secret"},
      {"annotation", "the annotation key as written on the Ingress, prefix included (`pier.dev/proxy-read-timeout`, `nginx.ingress.kubernetes.io/proxy-read-timeout`); only keys the annotation registry knows"},
  };
  return kLabels;
}

std::string_view TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Histogram: return "histogram";
    case prometheus::MetricType::Summary: return "summary";
    case prometheus::MetricType::Untyped: return "untyped";
  }
  return "untyped";
}

// A bucket bound as Prometheus prints it in `le` (shortest form: 0.001, 86400).
std::string FormatBound(double bound) {
  std::ostringstream out;
  out << bound;
  return out.str();
}

struct Entry {
  std::string help;
  prometheus::MetricType type = prometheus::MetricType::Untyped;
  std::map<std::string, std::set<std::string>> labels;
  std::vector<double> buckets;
};

std::map<std::string, Entry> Merge(const std::vector<prometheus::MetricFamily>& families) {
  std::map<std::string, Entry> entries;
  for (const auto& family : families) {
    Entry& entry = entries[family.name];
    if (entry.help.empty()) entry.help = family.help;
    entry.type = family.type;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) entry.labels[label.name].insert(label.value);
      if (family.type == prometheus::MetricType::Histogram && entry.buckets.empty()) {
        for (const auto& bucket : metric.histogram.bucket) {
          if (bucket.upper_bound != std::numeric_limits<double>::infinity()) entry.buckets.push_back(bucket.upper_bound);
        }
      }
    }
  }
  return entries;
}

// The route labels go together, first: they are on most dataplane families and mean one thing.
constexpr const char* kRouteLabels[] = {"namespace", "ingress", "service"};
constexpr const char* kRouteLabelsText =
    "`namespace`, `ingress`, `service`: the route's Ingress and backend Service (all empty: no route matched)";

bool IsRouteLabel(const std::string& name) {
  return std::find(std::begin(kRouteLabels), std::end(kRouteLabels), name) != std::end(kRouteLabels);
}

std::string LabelsCell(const Entry& entry) {
  std::string cell;
  const bool routed = std::all_of(std::begin(kRouteLabels), std::end(kRouteLabels),
                                  [&](const char* name) { return entry.labels.count(name) != 0; });
  if (routed) cell = kRouteLabelsText;
  for (const auto& [name, values] : entry.labels) {
    if (routed && IsRouteLabel(name)) continue;
    if (!cell.empty()) cell += "<br>";
    cell += "`" + name + "`: ";
    auto free = FreeFormLabels().find(name);
    if (free != FreeFormLabels().end()) {
      cell += free->second;
      continue;
    }
    bool first = true;
    for (const auto& value : values) {
      cell += (first ? "`" : ", `") + value + "`";
      first = false;
    }
  }
  if (!entry.buckets.empty()) {
    if (!cell.empty()) cell += "<br>";
    cell += "buckets (`le`, seconds): ";
    for (std::size_t i = 0; i < entry.buckets.size(); ++i) {
      cell += (i == 0 ? "" : ", ") + FormatBound(entry.buckets[i]);
    }
  }
  return cell.empty() ? "none" : cell;
}

// Help text goes into a table cell: a '|' would end the cell.
std::string Escape(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string RenderCatalogMarkdown(const std::vector<prometheus::MetricFamily>& families) {
  std::string out = "| metric | type | labels | help |\n|---|---|---|---|\n";
  for (const auto& [name, entry] : Merge(families)) {
    out += "| `" + name + "` | " + std::string(TypeName(entry.type)) + " | " + LabelsCell(entry) + " | " +
           Escape(entry.help) + " |\n";
  }
  return out;
}

std::string RenderCatalogNames(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  for (const auto& [name, entry] : Merge(families)) out += name + " " + std::string(TypeName(entry.type)) + "\n";
  return out;
}

}  // namespace pier::metrics
