// The small HTTP/1.1 server for operational endpoints (/metrics, /healthz, /readyz and whatever a
// process adds). It runs on its own io_context thread so a busy data path or event loop never
// delays a scrape or a probe. It is reachable from the whole cluster, so it reads with a deadline,
// bounds header size and connection count, and answers malformed requests with 400.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "pier/common/result.h"

namespace pier {

struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the admin thread; must be thread-safe with respect to the rest of the process and
// must not throw (an exception is answered with 500 and logged).
using AdminHandler = std::function<AdminResponse()>;

struct AdminHandlers {
  // Exact request paths (the query string is ignored). An entry here replaces a built-in one.
  std::map<std::string, AdminHandler> routes;
  // /readyz answers 200 "ok" when this returns true, 503 "not ready" otherwise. Unset = ready.
  std::function<bool()> ready;
};

struct AdminLimits {
  std::chrono::milliseconds read_timeout{10000};
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_connections = 64;
};

class AdminServer final {
 public:
  static constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Binds and starts serving at once; the error names the address when binding fails.
  static Result<std::unique_ptr<AdminServer>> Start(const std::string& listen_addr, AdminHandlers handlers,
                                                    AdminLimits limits = {});
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // The bound address (with the real port when the address asked for port 0).
  boost::asio::ip::tcp::endpoint LocalEndpoint() const;

  // Closes the listener and every connection, then joins the thread. Idempotent.
  void Stop() noexcept;

 private:
  class Impl;
  explicit AdminServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace pier
