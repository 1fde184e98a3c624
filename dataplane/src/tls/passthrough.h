// A TLS connection passed through unread (ssl-passthrough): the HTTPS listener read the
// client's ClientHello, saw that it names a passthrough host (SNI), and hands the socket and
// the bytes read so far over to this. They go, ClientHello first, to an endpoint of the host's
// passthrough route, and from then on bytes are copied both ways until both sides are done;
// the backend does the TLS handshake and sees the client's own.
//
// Of the route only what applies to bytes it cannot read: its source ranges (a client they do
// not admit is closed before any connect), its cluster and balancing policy, its connect
// timeout and proxy-next-upstream tries on another endpoint when a connect fails (a connect
// that failed sent nothing), passive health, and its WebSocket idle timeout as the idle
// timeout of the connection. Its Ingress' enable-access-log decides whether the connection
// gets an access log line ("type": "tls-passthrough") when it ends. A FIN from one side is
// passed on as shutdown(send) to the other, which may go on sending (half-close). A drain
// leaves the connection to finish within --drain-timeout: there is no protocol to ask either
// side to stop.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/proxy_metrics.h"
#include "listener/worker.h"
#include "routing/config.h"
#include "tls/io_types.h"
#include "upstream/balancer.h"

namespace pier::dataplane::tls {

class Passthrough final : public std::enable_shared_from_this<Passthrough>, public Drainable {
 public:
  // client_hello: every byte read from the client so far (its ClientHello and anything after).
  // peer_text: the client as the logs name it; server_name: the SNI that chose `route`.
  Passthrough(Worker& worker, std::shared_ptr<const RouteConfig> route, ConnectionGuard guard, Socket client,
              boost::asio::ip::address peer, std::string peer_text, std::string server_name,
              std::string client_hello);
  ~Passthrough();
  Passthrough(const Passthrough&) = delete;
  Passthrough& operator=(const Passthrough&) = delete;

  void Start();
  void Drain() noexcept override {}

 private:
  using Clock = std::chrono::steady_clock;

  struct Direction {
    const char* name;  // the side bytes are read from
    Socket* from;
    Socket* to;
    std::unique_ptr<char[]> buffer;
    uint64_t bytes = 0;
    bool finished = false;  // `from` sent FIN and `to` was shut down for sending
  };

  void Connect();
  void OnConnect(Clock::time_point started, boost::system::error_code ec);
  // After a failed connect: the next endpoint when the route's proxy-next-upstream allows it.
  bool TryNextEndpoint(bool timeout);
  void OnClientHelloSent(boost::system::error_code ec, std::size_t bytes);
  void DoRead(Direction& direction);
  void OnRead(Direction& direction, boost::system::error_code ec, std::size_t bytes);
  void OnWrite(Direction& direction, boost::system::error_code ec, std::size_t bytes);
  void ArmIdleTimer(Clock::duration after);
  void OnIdleTimer(boost::system::error_code ec);
  // Closes both sockets once. `reason`, a constant, is the access log's close_reason (the line
  // is written when the connection is destroyed); `why` goes to the debug log.
  void Close(const char* reason, std::string_view why);
  void Count(http::PassthroughResult result);

  Worker& worker_;
  std::shared_ptr<const RouteConfig> route_;
  http::RouteMetrics& metrics_;
  ConnectionGuard guard_;
  Socket client_;
  Socket upstream_;
  boost::asio::ip::address peer_;
  std::string peer_text_;
  std::string server_name_;
  std::string client_hello_;
  upstream::Choice choice_;
  uint32_t tries_ = 0;
  Clock::time_point first_try_{};
  SteadyTimer timer_;  // the connect deadline, then the idle timeout
  bool connecting_ = false;
  bool connect_timed_out_ = false;
  uint32_t connect_attempt_ = 0;  // which Connect() the pending deadline belongs to
  Clock::time_point last_activity_{};
  Direction to_upstream_{"client", &client_, &upstream_, {}};
  Direction to_client_{"upstream", &upstream_, &client_, {}};
  bool counted_ = false;
  bool closed_ = false;
  const char* close_reason_ = nullptr;  // nullptr until Close: "shutdown" in the access log
  Clock::time_point started_ = Clock::now();
  std::chrono::system_clock::time_point started_wall_ = std::chrono::system_clock::now();
};

}  // namespace pier::dataplane::tls
