#include "pier/common/metrics_catalog.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace pier::metrics {
namespace {

std::vector<prometheus::MetricFamily> Example() {
  static prometheus::Registry registry;
  static bool once = [] {
    auto& rejected = prometheus::BuildCounter().Name("x_rejected_total").Help("Refused | closed.").Register(registry);
    rejected.Add({{"reason", "rate_limited"}});
    rejected.Add({{"reason", "draining"}});
    prometheus::BuildHistogram()
        .Name("x_duration_seconds")
        .Help("How long.")
        .Register(registry)
        .Add({{"namespace", "default"}, {"ingress", "chat"}, {"service", "chat"}, {"code", "200"}},
             prometheus::Histogram::BucketBoundaries{0.001, 1, 86400});
    // Two of the three route labels are not "the route": listed one by one.
    prometheus::BuildCounter().Name("x_partial_total").Help("Partial.").Register(registry).Add(
        {{"namespace", "default"}, {"ingress", "chat"}});
    prometheus::BuildCounter().Name("a_plain_total").Help("No labels.").Register(registry).Add({});
    return true;
  }();
  (void)once;
  return registry.Collect();
}

TEST(RenderCatalogMarkdown, OneSortedRowPerFamilyWithLabelValuesAndBuckets) {
  EXPECT_EQ(RenderCatalogMarkdown(Example()),
            "| metric | type | labels | help |\n"
            "|---|---|---|---|\n"
            "| `a_plain_total` | counter | none | No labels. |\n"
            "| `x_duration_seconds` | histogram | `namespace`, `ingress`, `service`: the route's Ingress and backend"
            " Service (all empty: no route matched)"
            "<br>`code`: HTTP status code sent to the client (`200`, `404`, `503`, ...)"
            "<br>buckets (`le`, seconds): 0.001, 1, 86400 | How long. |\n"
            "| `x_partial_total` | counter | `ingress`: `chat`<br>`namespace`: `default` | Partial. |\n"
            "| `x_rejected_total` | counter | `reason`: `draining`, `rate_limited` | Refused \\| closed. |\n");
}

TEST(RenderCatalogNames, NameAndTypePerLine) {
  EXPECT_EQ(RenderCatalogNames(Example()),
            "a_plain_total counter\nx_duration_seconds histogram\nx_partial_total counter\nx_rejected_total counter\n");
}

TEST(RenderCatalogNames, MergesFamiliesRegisteredTwice) {
  auto families = Example();
  auto more = Example();
  families.insert(families.end(), more.begin(), more.end());
  EXPECT_EQ(RenderCatalogNames(families), RenderCatalogNames(Example()));
}

}  // namespace
}  // namespace pier::metrics
