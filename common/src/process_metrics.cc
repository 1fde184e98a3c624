#include "pier/common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pier/common/metrics.h"

namespace pier::metrics {
namespace {

// Field numbers of /proc/<pid>/stat (proc(5), 1-based); field 3 is the first after the ')'.
constexpr int kFirstFieldAfterComm = 3;
constexpr int kUtime = 14;
constexpr int kStime = 15;
constexpr int kStartTime = 22;
constexpr int kVsize = 23;
constexpr int kRss = 24;

bool ParseUnsigned(std::string_view text, uint64_t& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Logs each kind of /proc failure once: a scrape every few seconds must not flood the log.
void WarnOnce(std::atomic<bool>& warned, std::string_view what) {
  if (!warned.exchange(true)) spdlog::warn("process metrics: {}", what);
}

prometheus::MetricFamily Single(std::string name, std::string help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {metric}};
}

Result<std::size_t> CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return Fail("cannot open /proc/self/fd");
  std::size_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  // The directory stream itself held one descriptor while it was counted.
  return count > 0 ? count - 1 : 0;
}

}  // namespace

Result<ProcStat> ParseProcStat(std::string_view line) {
  const auto comm_end = line.rfind(')');
  if (comm_end == std::string_view::npos) return Fail("/proc/self/stat: no command name");
  std::string_view rest = line.substr(comm_end + 1);
  ProcStat stat;
  int field = kFirstFieldAfterComm;
  int found = 0;
  while (!rest.empty() && field <= kRss) {
    const auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = std::min(rest.find_first_of(" \n"), rest.size());
    const std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end);
    uint64_t* target = nullptr;
    switch (field) {
      case kUtime: target = &stat.utime_ticks; break;
      case kStime: target = &stat.stime_ticks; break;
      case kStartTime: target = &stat.start_ticks_since_boot; break;
      case kVsize: target = &stat.virtual_bytes; break;
      case kRss: target = &stat.resident_pages; break;
      default: break;
    }
    if (target != nullptr) {
      if (!ParseUnsigned(token, *target)) return Fail("/proc/self/stat: field " + std::to_string(field) + " is not a number");
      ++found;
    }
    ++field;
  }
  if (found != 5) return Fail("/proc/self/stat: too few fields");
  return stat;
}

Result<uint64_t> ParseBootTime(std::string_view proc_stat) {
  constexpr std::string_view kKey = "btime ";
  std::size_t pos = 0;
  while (pos < proc_stat.size()) {
    auto end = proc_stat.find('\n', pos);
    if (end == std::string_view::npos) end = proc_stat.size();
    std::string_view line = proc_stat.substr(pos, end - pos);
    if (line.starts_with(kKey)) {
      uint64_t seconds = 0;
      if (!ParseUnsigned(line.substr(kKey.size()), seconds)) return Fail("/proc/stat: btime is not a number");
      return seconds;
    }
    pos = end + 1;
  }
  return Fail("/proc/stat: no btime line");
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  static std::atomic<bool> stat_warned{false}, boot_warned{false}, fd_warned{false};
  static const long ticks_per_second = sysconf(_SC_CLK_TCK);
  static const long page_bytes = sysconf(_SC_PAGESIZE);

  std::vector<prometheus::MetricFamily> families;
  auto stat = ParseProcStat(ReadFile("/proc/self/stat"));
  if (stat && ticks_per_second > 0) {
    const double ticks = static_cast<double>(ticks_per_second);
    families.push_back(Single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                              MetricType::Counter, static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks));
    families.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                              static_cast<double>(stat->resident_pages) * static_cast<double>(page_bytes)));
    families.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
                              static_cast<double>(stat->virtual_bytes)));
    // Boot time does not change while the process runs; /proc/stat is read once.
    static const Result<uint64_t> boot = ParseBootTime(ReadFile("/proc/stat"));
    if (boot) {
      families.push_back(Single("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                                MetricType::Gauge,
                                static_cast<double>(*boot) + static_cast<double>(stat->start_ticks_since_boot) / ticks));
    } else {
      WarnOnce(boot_warned, boot.error());
    }
  } else {
    WarnOnce(stat_warned, stat ? "sysconf(_SC_CLK_TCK) failed" : stat.error());
  }
  if (auto fds = CountOpenFds()) {
    families.push_back(Single("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                              static_cast<double>(*fds)));
  } else {
    WarnOnce(fd_warned, fds.error());
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    families.push_back(Single("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
                              static_cast<double>(limit.rlim_cur)));
  }
  return families;
}

void RegisterProcessMetrics() {
  static const bool registered = [] {
    AddCollectable(std::make_shared<ProcessCollector>());
    return true;
  }();
  (void)registered;
}

}  // namespace pier::metrics
