// The four load patterns of pier-loadgen. Each runs on `threads` io_contexts (one thread each,
// connections spread round-robin) and returns per-run totals; no exception escapes a connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "histogram.h"
#include "target.h"

namespace pier::bench {

enum class Mode { kEcho, kStream, kHandshake, kIdle };

struct LoadOptions {
  Mode mode = Mode::kEcho;
  Target target;
  unsigned connections = 100;  // echo, stream, idle; the concurrency of handshake
  std::size_t message_bytes = 64;
  unsigned window = 4;  // stream: messages in flight per connection
  std::chrono::milliseconds duration{10'000};
  unsigned threads = 1;
  unsigned open_concurrency = 64;  // connections being opened at once, per thread
  // idle: hold until stdin closes (the driver measures memory meanwhile) instead of `duration`.
  bool hold_until_stdin_closes = false;
  std::chrono::milliseconds io_timeout{10'000};
};

struct LoadResult {
  unsigned opened = 0;          // connections upgraded before the measurement
  uint64_t messages = 0;        // echoes received (echo, stream), handshakes completed
  uint64_t payload_bytes = 0;   // echoed payload received
  uint64_t connect_errors = 0;  // TCP connect or upgrade failures
  uint64_t validation_errors = 0;  // echoes that differ from what was sent
  uint64_t dropped = 0;         // connections that failed after opening, before the end
  double seconds = 0;           // measured time
  LatencyHistogram latency_ns;  // round trip (echo), connect+upgrade+close (handshake)
};

// Runs the mode. `on_open` is called once every connection is open (idle: the hold starts).
LoadResult Run(const LoadOptions& options, void (*on_open)(unsigned opened));

}  // namespace pier::bench
