#include "server/warning_reporter.h"

#include <gtest/gtest.h>

#include "server/controller_metrics.h"

namespace pier::server {
namespace {

translate::Warning Invalid(const std::string& ingress, const std::string& annotation) {
  return {"web", ingress, "InvalidAnnotation", annotation + ": not a duration", annotation};
}

translate::Warning Missing(const std::string& ingress) {
  return {"web", ingress, "MissingService", "service chat not found", ""};
}

TEST(WarningReporterTest, RepeatedWarningsAreReportedOnce) {
  WarningReporter reporter;
  EXPECT_EQ(reporter.Report({Missing("a"), Missing("b")}).size(), 2u);
  EXPECT_EQ(reporter.Report({Missing("a"), Missing("b")}).size(), 0u);
  auto fresh = reporter.Report({Missing("a"), Missing("c")});
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].ingress_name, "c");
}

TEST(WarningReporterTest, DuplicatesWithinOneBuildAreReportedOnce) {
  WarningReporter reporter;
  EXPECT_EQ(reporter.Report({Missing("a"), Missing("a")}).size(), 1u);
}

TEST(WarningReporterTest, WarningThatComesBackIsReportedAgain) {
  WarningReporter reporter;
  EXPECT_EQ(reporter.Report({Missing("a")}).size(), 1u);
  EXPECT_EQ(reporter.Report({}).size(), 0u);
  EXPECT_EQ(reporter.Report({Missing("a")}).size(), 1u);
}

TEST(WarningReporterTest, NewInvalidAnnotationsAreCounted) {
  auto& metrics = ControllerMetrics::Get();
  const std::string key = "pier.dev/proxy-read-timeout";
  const double before = metrics.InvalidAnnotationCount(key);
  WarningReporter reporter;
  reporter.Report({Invalid("a", key), Missing("a")});
  EXPECT_EQ(metrics.InvalidAnnotationCount(key), before + 1);
  reporter.Report({Invalid("a", key)});  // same warning again: not a new occurrence
  EXPECT_EQ(metrics.InvalidAnnotationCount(key), before + 1);
  reporter.Report({Invalid("a", key), Invalid("b", key)});
  EXPECT_EQ(metrics.InvalidAnnotationCount(key), before + 2);
}

}  // namespace
}  // namespace pier::server
