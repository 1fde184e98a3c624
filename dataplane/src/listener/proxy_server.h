// The data path: listeners on every thread, HTTP sessions, upstream pools and WebSocket tunnels.
// main builds one ProxyServer from flags, hands it the ConfigStore that the config client
// updates, and calls Run(); SIGTERM turns into Drain().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pier/common/result.h"
#include "routing/config.h"

namespace pier::dataplane {

struct ProxyOptions {
  std::string http_listen = "0.0.0.0:8080";
  std::string https_listen;  // "" = no TLS listener
  // The port redirects to https:// name (omitted when 443); 0 = the HTTPS listener's own port.
  uint16_t https_redirect_port = 0;
  int threads = 0;           // 0 = hardware concurrency
  std::chrono::milliseconds header_timeout{10000};
  std::size_t max_header_bytes = 16 * 1024;
  std::vector<std::string> trusted_proxies;  // CIDRs
  std::chrono::milliseconds drain_timeout{30000};
  // Client connections open at once on this dataplane (--max-connections); beyond it a new
  // connection is closed as soon as it is accepted. 0 = no limit.
  std::size_t max_connections = 0;
  std::chrono::seconds tcp_keepalive_idle{60};
  // Every connection starts with a PROXY protocol header (version 1 or 2) from the load
  // balancer in front, whose source address becomes the client's (--proxy-protocol).
  bool proxy_protocol = false;
};

class ProxyServer final {
 public:
  static Result<std::unique_ptr<ProxyServer>> Create(const ProxyOptions& options, const ConfigStore& config);
  ~ProxyServer();

  // Binds every listener (SO_REUSEPORT, one acceptor per thread); an error names the address.
  Result<bool> Start();
  // Stops accepting, lets in-flight requests finish, sends close 1001 to every tunnel; returns
  // at once. Safe to call from any thread, more than once.
  void Drain() noexcept;
  // Blocks until every connection is gone after Drain(), or drain_timeout passed.
  void Wait();

  std::size_t ActiveConnections() const noexcept;

  // The bound HTTP address after Start() (the real port when http_listen asked for port 0).
  boost::asio::ip::tcp::endpoint HttpEndpoint() const noexcept;
  // The bound HTTPS address after Start(); unspecified when https_listen is "".
  boost::asio::ip::tcp::endpoint HttpsEndpoint() const noexcept;

 private:
  class Impl;
  explicit ProxyServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pier::dataplane
