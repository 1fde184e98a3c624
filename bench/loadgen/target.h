// Where the load goes: ws://HOST:PORT/PATH, parsed once up front.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pier::bench {

struct Target {
  std::string host;  // numeric IPv4/IPv6 address (the benchmarks run on loopback, no DNS)
  uint16_t port = 0;
  std::string path = "/";
  std::string host_header;  // "host:port", as a browser would send it
};

// Parses "ws://127.0.0.1:8080/ws"; nullopt with `error` set when it is not one.
std::optional<Target> ParseTarget(std::string_view url, std::string& error);

}  // namespace pier::bench
