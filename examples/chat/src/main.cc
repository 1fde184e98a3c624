// pier-chat-backend: the demo's chat server and the integration tests' backend.
//
//   pier-chat-backend --listen 127.0.0.1:9001 --name chat-1 [--static DIR]
//
// One thread serves everything; the chat room is per process, so clients on different
// instances do not see each other's messages (the page shows which instance it is on).
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "chat_room.h"
#include "http_session.h"
#include "listener.h"
#include "pier/common/log.h"
#include "pier/common/version.h"

namespace {

// Long enough for close frames to reach the clients, short enough for Ctrl-C to feel instant.
constexpr std::chrono::milliseconds kShutdownGrace{500};

struct Flags {
  std::string listen;
  std::string name = "chat";
  std::string static_dir;
  int ping_interval_s = 30;
  std::string log_format = "text";
  std::string log_level = "info";
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Pier demo chat backend: the chat page, /ws/chat, /ws/echo and test endpoints"};
  app.set_version_flag("--version", std::string(pier::Version()));
  app.add_option("--listen", flags.listen, "HOST:PORT to listen on (port 0 picks one)")->required();
  app.add_option("--name", flags.name, "Instance name shown to clients and in X-Backend")->capture_default_str();
  app.add_option("--static", flags.static_dir, "Serve files from this directory instead of the built-in page");
  app.add_option("--ws-ping-interval", flags.ping_interval_s,
                 "Seconds of WebSocket silence before the server pings (0 = never)")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  app.add_option("--log-format", flags.log_format, "text or json")->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto format = pier::log::ParseFormat(flags.log_format);
  if (!format) {
    std::fprintf(stderr, "pier-chat-backend: %s\n", format.error().c_str());
    return 2;
  }
  if (auto init = pier::log::Init({*format, flags.log_level, "chat"}); !init) {
    std::fprintf(stderr, "pier-chat-backend: %s\n", init.error().c_str());
    return 2;
  }

  auto endpoint = pier::chat::ParseListenAddress(flags.listen);
  if (!endpoint) {
    spdlog::error("{}", endpoint.error());
    return 2;
  }
  std::optional<std::filesystem::path> static_dir;
  if (!flags.static_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(flags.static_dir, ec)) {
      spdlog::error("--static {} is not a directory", flags.static_dir);
      return 2;
    }
    static_dir = flags.static_dir;
  }

  auto room = std::make_shared<pier::chat::ChatRoom>(flags.name);
  auto context = std::make_shared<const pier::chat::BackendContext>(pier::chat::BackendContext{
      flags.name, pier::chat::StaticFiles(static_dir),
      pier::chat::WebSocketOptions{std::chrono::seconds(flags.ping_interval_s)}, room});

  boost::asio::io_context ioc{1};
  auto listener = pier::chat::Listener::Create(ioc, *endpoint, context);
  if (!listener) {
    spdlog::error("{}", listener.error());
    return 1;
  }
  auto bound = (*listener)->local_endpoint();
  spdlog::info("{} listening on {}:{}", flags.name, bound.address().to_string(), bound.port());
  (*listener)->Run();

  // SIGTERM/SIGINT: stop accepting, say goodbye (1001) to chat clients, then stop after a short
  // grace. Keep-alive HTTP connections and echo tunnels are not drained: this is a demo backend.
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  boost::asio::steady_timer grace(ioc);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signal);
    (*listener)->Stop();
    room->CloseAll(boost::beast::websocket::close_code::going_away);
    grace.expires_after(kShutdownGrace);
    grace.async_wait([&](boost::system::error_code) { ioc.stop(); });
  });

  ioc.run();
  return 0;
}
