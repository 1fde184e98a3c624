#include "report.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace pier::bench {

namespace {

double PerSecond(double value, double seconds) { return seconds > 0 ? value / seconds : 0.0; }
double Micros(uint64_t nanoseconds) { return static_cast<double>(nanoseconds) / 1000.0; }

}  // namespace

std::string ModeName(Mode mode) {
  switch (mode) {
    case Mode::kEcho: return "echo";
    case Mode::kStream: return "stream";
    case Mode::kHandshake: return "handshake";
    case Mode::kIdle: return "idle";
  }
  return "unknown";
}

std::string ReportJson(const LoadOptions& options, const LoadResult& result) {
  const auto& h = result.latency_ns;
  nlohmann::json json = {
      {"mode", ModeName(options.mode)},
      {"connections", options.connections},
      {"opened", result.opened},
      {"message_bytes", options.message_bytes},
      {"seconds", result.seconds},
      {"messages", result.messages},
      {"messages_per_s", PerSecond(static_cast<double>(result.messages), result.seconds)},
      {"payload_bytes", result.payload_bytes},
      {"mb_per_s", PerSecond(static_cast<double>(result.payload_bytes), result.seconds) / 1e6},
      {"latency_us",
       {{"count", h.count()},
        {"mean", h.mean() / 1000.0},
        {"p50", Micros(h.ValueAt(0.50))},
        {"p90", Micros(h.ValueAt(0.90))},
        {"p99", Micros(h.ValueAt(0.99))},
        {"max", Micros(h.max())}}},
      {"errors",
       {{"connect", result.connect_errors}, {"validation", result.validation_errors}, {"dropped", result.dropped}}},
  };
  return json.dump();
}

std::string ReportTable(const LoadOptions& options, const LoadResult& result) {
  const auto& h = result.latency_ns;
  char text[1024];
  std::snprintf(text, sizeof text,
                "mode %s: %u/%u connections open, %.1f s\n"
                "  messages      %llu (%.0f/s)\n"
                "  payload       %.2f MB/s\n"
                "  latency (us)  p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n"
                "  errors        connect %llu  validation %llu  dropped %llu\n",
                ModeName(options.mode).c_str(), result.opened, options.connections, result.seconds,
                static_cast<unsigned long long>(result.messages),
                PerSecond(static_cast<double>(result.messages), result.seconds),
                PerSecond(static_cast<double>(result.payload_bytes), result.seconds) / 1e6, Micros(h.ValueAt(0.5)),
                Micros(h.ValueAt(0.9)), Micros(h.ValueAt(0.99)), Micros(h.max()),
                static_cast<unsigned long long>(result.connect_errors),
                static_cast<unsigned long long>(result.validation_errors),
                static_cast<unsigned long long>(result.dropped));
  return text;
}

}  // namespace pier::bench
