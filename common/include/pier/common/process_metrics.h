// process_* metrics (the Prometheus client convention: CPU, memory, file descriptors, start time)
// read from /proc/self at scrape time. prometheus-cpp 1.0 ships no process collector, and
// operators' standard dashboards and alerts expect these names.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <string_view>

#include "pier/common/result.h"

namespace pier::metrics {

// The fields of /proc/self/stat the collector reports, in the kernel's units.
struct ProcStat {
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t start_ticks_since_boot = 0;
  uint64_t virtual_bytes = 0;
  uint64_t resident_pages = 0;
};

// Parses one /proc/<pid>/stat line. The command name (field 2) may hold spaces and parentheses,
// so fields are counted from the last ')'.
Result<ProcStat> ParseProcStat(std::string_view line);

// The "btime" line of /proc/stat: boot time in seconds since the epoch.
Result<uint64_t> ParseBootTime(std::string_view proc_stat);

// Collects process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds. A /proc read that fails
// drops only the affected metric from that scrape (and is logged once), never the scrape.
class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

// Adds the process collector to what Serialize() exposes. Idempotent.
void RegisterProcessMetrics();

}  // namespace pier::metrics
