#include "pier/common/process_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <string>

namespace pier::metrics {
namespace {

// A real line from a process whose command name holds a space and a ')'.
constexpr const char* kStatLine =
    "4242 (pier) (data)plane) S 1 4242 4242 0 -1 4194560 2181 0 0 0 123 45 0 0 20 0 9 0 987654 "
    "1048576000 5120 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ParseProcStat, ReadsFieldsCountedFromTheLastParenthesis) {
  auto stat = ParseProcStat(kStatLine);
  ASSERT_TRUE(stat) << stat.error();
  EXPECT_EQ(stat->utime_ticks, 123u);
  EXPECT_EQ(stat->stime_ticks, 45u);
  EXPECT_EQ(stat->start_ticks_since_boot, 987654u);
  EXPECT_EQ(stat->virtual_bytes, 1048576000u);
  EXPECT_EQ(stat->resident_pages, 5120u);
}

TEST(ParseProcStat, RejectsTruncatedOrGarbledLines) {
  EXPECT_FALSE(ParseProcStat(""));
  EXPECT_FALSE(ParseProcStat("4242 pier S 1"));
  EXPECT_FALSE(ParseProcStat("4242 (pier) S 1 4242 4242 0 -1 4194560 2181 0 0 0 12x 45 0 0 20 0 9 0 1 2 3"));
  EXPECT_FALSE(ParseProcStat("4242 (pier) S 1 4242 4242 0 -1 4194560 2181 0 0 0 123 45 0 0 20 0 9 0 1 2"));
}

TEST(ParseBootTime, FindsTheBtimeLine) {
  auto boot = ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1764000000\nprocesses 9\n");
  ASSERT_TRUE(boot) << boot.error();
  EXPECT_EQ(*boot, 1764000000u);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n"));
  EXPECT_FALSE(ParseBootTime("btime soon\n"));
}

std::map<std::string, double> CollectByName() {
  std::map<std::string, double> values;
  for (const auto& family : ProcessCollector().Collect()) {
    EXPECT_EQ(family.metric.size(), 1u) << family.name;
    const auto& metric = family.metric.front();
    values[family.name] =
        family.type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value;
  }
  return values;
}

TEST(ProcessCollector, ReportsThisProcess) {
  auto values = CollectByName();
  ASSERT_EQ(values.size(), 6u);
  EXPECT_GT(values["process_resident_memory_bytes"], 0);
  EXPECT_GE(values["process_virtual_memory_bytes"], values["process_resident_memory_bytes"]);
  EXPECT_GE(values["process_cpu_seconds_total"], 0);
  EXPECT_GT(values["process_max_fds"], 0);
  // This process started a moment ago (clock ticks make it coarse: allow a minute).
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_NEAR(values["process_start_time_seconds"], now, 60);

  // One more open descriptor shows up in the next collection.
  const double before = values["process_open_fds"];
  int fd = dup(STDERR_FILENO);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(CollectByName()["process_open_fds"], before + 1);
  close(fd);
  EXPECT_EQ(CollectByName()["process_open_fds"], before);
}

}  // namespace
}  // namespace pier::metrics
