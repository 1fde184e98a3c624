// pier-loadgen MODE --url ws://HOST:PORT/PATH [options]: WebSocket load for ./dev bench.
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <string>

#include "modes.h"
#include "report.h"

namespace {

bool g_json = false;

// Thousands of connections need thousands of descriptors: take what the hard limit allows.
void RaiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// The driver waits for this line before it measures an idle run's memory.
void AnnounceOpen(unsigned opened) {
  if (g_json) {
    std::printf("{\"event\":\"open\",\"opened\":%u}\n", opened);
  } else {
    std::printf("%u connections open\n", opened);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  pier::bench::LoadOptions options;
  std::string url;
  std::string mode = "echo";
  double duration_s = 10;
  double timeout_s = 10;
  CLI::App app{"WebSocket load generator: echo, stream, handshake, idle"};
  const std::map<std::string, pier::bench::Mode> modes = {{"echo", pier::bench::Mode::kEcho},
                                                          {"stream", pier::bench::Mode::kStream},
                                                          {"handshake", pier::bench::Mode::kHandshake},
                                                          {"idle", pier::bench::Mode::kIdle}};
  app.add_option("mode", mode, "echo | stream | handshake | idle")
      ->check(CLI::IsMember({"echo", "stream", "handshake", "idle"}))
      ->capture_default_str();
  app.add_option("--url", url, "ws://HOST:PORT/PATH (numeric host)")->required();
  app.add_option("-c,--connections", options.connections, "Connections (handshake: concurrency)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("-s,--size", options.message_bytes, "Message payload bytes")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("-w,--window", options.window, "stream: messages in flight per connection")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("-d,--duration", duration_s, "Seconds to measure (idle: to hold)")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("-t,--threads", options.threads, "Threads, one io_context each")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--open-concurrency", options.open_concurrency, "Connections opened at once per thread")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "Seconds allowed for a connect, handshake or read")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--hold-stdin", options.hold_until_stdin_closes, "idle: hold until stdin closes instead of --duration");
  app.add_flag("--json", g_json, "Print one JSON object instead of a table");
  CLI11_PARSE(app, argc, argv);

  std::string error;
  auto target = pier::bench::ParseTarget(url, error);
  if (!target) {
    std::fprintf(stderr, "pier-loadgen: --url %s: %s\n", url.c_str(), error.c_str());
    return 2;
  }
  options.target = *target;
  options.mode = modes.at(mode);
  options.duration = std::chrono::milliseconds(static_cast<long long>(duration_s * 1000));
  options.io_timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
  RaiseFileLimit();

  auto result = pier::bench::Run(options, &AnnounceOpen);
  auto report = g_json ? pier::bench::ReportJson(options, result) + "\n" : pier::bench::ReportTable(options, result);
  std::fputs(report.c_str(), stdout);
  // Exit status 1 when anything went wrong, so a script notices without parsing the report.
  bool clean = result.connect_errors == 0 && result.validation_errors == 0 && result.dropped == 0;
  return clean ? 0 : 1;
}
