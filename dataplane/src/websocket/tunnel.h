// A WebSocket connection after a verified 101: raw bytes copied both ways between the client
// and the upstream until both sides are done, the idle timeout passes or the server drains.
//
// Each direction waits for readability without a buffer, then reads into a buffer of the
// route's buffer_bytes that lives only until the chunk is written on, so an idle tunnel holds
// no buffers. A FIN from one side is passed on as shutdown(send) to the other while the other
// direction keeps flowing (half-close).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/proxy_metrics.h"
#include "listener/worker.h"
#include "routing/config.h"
#include "websocket/frame_observer.h"

namespace pier::dataplane::websocket {

// Who the tunnel is, for the access log line written when it closes.
struct TunnelIdentity {
  std::string client;
  std::string host;
  std::string path;
  std::string upstream;
  std::string request_id;
  std::chrono::system_clock::time_point started_wall;
  std::chrono::steady_clock::time_point started;
  uint64_t handshake_bytes_in = 0;   // the upgrade request as received from the client
  uint64_t handshake_bytes_out = 0;  // the 101 as sent to the client
  // Counts the tunnel on its endpoint (least_conn) until the tunnel is destroyed.
  upstream::EndpointLease lease;
};

class Tunnel final : public std::enable_shared_from_this<Tunnel>, public Drainable {
 public:
  // `client_pending` / `upstream_pending`: bytes already read past the handshake on each side
  // (the client's first frames, the upstream's first frames); they are sent on first.
  Tunnel(Worker& worker, std::shared_ptr<const RouteConfig> route, http::RouteMetrics& metrics,
         ConnectionGuard guard, boost::asio::ip::tcp::socket client, boost::asio::ip::tcp::socket upstream,
         std::string client_pending, std::string upstream_pending, TunnelIdentity identity);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  void Start();

  // Plugs a frame tracker into one direction; call before Start().
  void SetObservers(std::unique_ptr<FrameObserver> client_to_upstream, std::unique_ptr<FrameObserver> upstream_to_client);

  // For now the tunnel is closed at once ("draining"). Hook for the frame-aware tunnel: wait for
  // the client-bound direction to reach a frame boundary, inject a close frame 1001, then close.
  void Drain() noexcept override;

 private:
  struct Direction {
    const char* name;  // "client" / "upstream": the side bytes are read from
    boost::asio::ip::tcp::socket* from;
    boost::asio::ip::tcp::socket* to;
    std::unique_ptr<char[]> buffer;  // only while a chunk is in flight
    std::string pending;             // handshake leftovers, written before anything is read
    std::unique_ptr<FrameObserver> observer;
    uint64_t bytes = 0;
    bool finished = false;  // read side saw FIN and the write side was shut down
  };

  void DoWaitReadable(Direction& direction);
  void OnReadable(Direction& direction, boost::system::error_code ec);
  void DoWrite(Direction& direction, const char* data, std::size_t size);
  void OnWrite(Direction& direction, boost::system::error_code ec, std::size_t size);
  void OnEndOfStream(Direction& direction);
  void ArmIdleTimer();
  void OnIdleTimer(boost::system::error_code ec);
  void Close(const char* reason) noexcept;
  void Account() noexcept;

  Worker& worker_;
  std::shared_ptr<const RouteConfig> route_;  // this tunnel's own route: config swaps do not touch it
  http::RouteMetrics& metrics_;
  ConnectionGuard guard_;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  Direction to_upstream_;
  Direction to_client_;
  boost::asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  TunnelIdentity identity_;
  const char* close_reason_ = nullptr;
  bool started_ = false;
  bool closed_ = false;
  bool accounted_ = false;
};

}  // namespace pier::dataplane::websocket
