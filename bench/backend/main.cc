// pier-bench-backend --listen 127.0.0.1:PORT [--threads N]
#include <CLI/CLI.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server.h"

namespace {

// Idle-connection runs hold thousands of sockets: take every descriptor the hard limit allows.
void RaiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:9000";
  unsigned threads = 1;
  CLI::App app{"Benchmark backend: HTTP 200 on every path, WebSocket echo on /ws, sink on /sink"};
  app.add_option("--listen", listen, "HOST:PORT")->capture_default_str();
  app.add_option("--threads", threads, "Threads, one io_context each")->check(CLI::PositiveNumber)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto colon = listen.rfind(':');
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(colon == std::string::npos ? "" : listen.substr(0, colon), ec);
  unsigned long port = 0;
  if (!ec && colon != std::string::npos) port = std::strtoul(listen.c_str() + colon + 1, nullptr, 10);
  if (ec || port == 0 || port > 65535) {
    std::fprintf(stderr, "pier-bench-backend: --listen wants HOST:PORT, got %s\n", listen.c_str());
    return 2;
  }
  RaiseFileLimit();

  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  for (unsigned i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<boost::asio::io_context>(1));
    auto error = pier::bench::StartBackend(*contexts.back(), {address, static_cast<unsigned short>(port)});
    if (!error.empty()) {
      std::fprintf(stderr, "pier-bench-backend: %s\n", error.c_str());
      return 1;
    }
  }
  boost::asio::signal_set signals(*contexts.front(), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    for (auto& ioc : contexts) ioc->stop();
  });
  std::fprintf(stderr, "pier-bench-backend: listening on %s with %u threads\n", listen.c_str(), threads);
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&ioc = *contexts[i]] { ioc.run(); });
  contexts.front()->run();
  for (auto& worker : workers) worker.join();
  return 0;
}
