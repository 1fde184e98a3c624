// A WebSocket connection after a verified 101: bytes copied both ways between the client and
// the upstream until both sides are done, the idle timeout passes or the server drains.
//
// A plain direction waits with a read of at most kProbeBytes into a small array of its own:
// a small message (a ping, an acknowledgement, a short chat line) is forwarded straight from
// there, and a longer one continues into a buffer of the route's buffer_bytes that lives only until the
// chunk is written on, so an idle tunnel holds no chunk buffers. Waiting with a read rather
// than a readiness wait matters: Asio re-registers the socket with epoll (an epoll_ctl) for
// every readiness wait, while a pending read needs nothing after the first. A TLS side (wss://, or a backend-protocol HTTPS upstream) is read until OpenSSL
// reports would_block before the tunnel waits on its socket again: OpenSSL may hold decrypted
// bytes, or whole records, that the socket no longer signals. An idle TLS side still holds
// OpenSSL's connection state and asio's two record buffers (about 34 KiB), not a chunk buffer. A FIN from one side is passed on as shutdown(send) to the other while the other
// direction keeps flowing (half-close). Once both close frames have gone through (the closing
// handshake is complete and no byte may follow), the first FIN closes both connections instead,
// as the server end of a WebSocket would; and when the upstream's close frame completes it, a
// plain client gets that frame and the proxy's FIN together (SendLastAndShutdown).
//
// A FrameTracker per direction follows the frame headers (payloads are never unmasked or
// copied) to count messages and to know where frames end. On drain each direction is relayed
// up to its next frame boundary, then gets a close frame 1001 from the proxy (unmasked toward
// the client, masked toward the upstream); from then on that direction's bytes are only
// followed, not forwarded, until both peers have answered with their own close frame (or
// hung up) - then the tunnel closes. The drain is bounded by kDrainCloseWait and --drain-timeout.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/proxy_metrics.h"
#include "listener/worker.h"
#include "routing/config.h"
#include "tls/stream.h"
#include "websocket/frame_observer.h"
#include "websocket/frame_tracker.h"

namespace pier::dataplane::websocket {

// Who the tunnel is, for the access log line written when it closes.
struct TunnelIdentity {
  std::string client;
  std::string host;
  std::string path;
  std::string upstream;
  std::string request_id;
  std::string user;  // basic authentication's, "" when the route has none
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
         ConnectionGuard guard, tls::Stream client, tls::Stream upstream,
         std::string client_pending, std::string upstream_pending, TunnelIdentity identity);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  void Start();

  // Extra observers of the raw bytes of each direction (the tunnel tracks frames itself);
  // call before Start().
  void SetObservers(std::unique_ptr<FrameObserver> client_to_upstream, std::unique_ptr<FrameObserver> upstream_to_client);

  // Close 1001 to both peers at the next frame boundary, then close once they answered.
  void Drain() noexcept override;

  // The upstream socket has no TCP keepalive yet: the worker's next housekeeping pass sets it
  // (see Housekeep). Call before Start().
  void DeferUpstreamKeepAlive() noexcept { upstream_keepalive_pending_ = true; }
  // Sets the deferred upstream keepalive and arms the deferred idle timer. Most WebSockets
  // through a busy proxy live for less than a housekeeping interval (10 s): they never need
  // keepalive probes, which start only after --tcp-keepalive of silence anyway, nor an idle
  // timer that could not fire before they end. A tunnel that lives on gets both here: five
  // setsockopt calls, and a timer insertion and cancellation, that short connections are spared.
  void Housekeep() noexcept override;

 private:
  // The plain sides' waiting read (see above); two per tunnel.
  static constexpr std::size_t kProbeBytes = 128;

  // Ordered by use: the first four cache lines hold what every message touches, the probe
  // follows, the rest is for the handshake leftovers, drain and errors. With a thousand tunnels
  // in flight a tunnel is rarely in the cache when its next message comes, so each further line
  // a message touches is a further miss.
  struct Direction {
    tls::Stream* from;
    tls::Stream* to;
    bool waiting = false;   // a readiness wait on `from` is pending
    bool filled = false;    // the last read filled the buffer: more is probably queued
    bool writing = false;   // a write to `to` is pending
    bool finished = false;  // read side saw FIN and the write side was shut down
    // `to` has its last close frame and `from` is only followed now: the proxy's own (drain),
    // or the upstream's answer that ended the closing handshake (SendLastAndShutdown).
    bool close_sent = false;
    uint64_t bytes = 0;     // forwarded
    uint64_t messages = 0;  // forwarded
    metrics::ShardedCounterFamily::Child* messages_metric = nullptr;
    std::unique_ptr<char[]> buffer;  // only while a chunk is in flight
    std::unique_ptr<FrameObserver> observer;
    // A read that failed after bytes came with it: reported once those bytes are written on.
    boost::system::error_code deferred_error;
    std::string pending;  // handshake leftovers, later the injected close frame
    FrameTracker frames;
    std::array<char, kProbeBytes> probe;  // a plain side's waiting read lands here
    const char* name;  // "client" / "upstream": the side bytes are read from
  };

  void DoWaitReadable(Direction& direction);
  // After a chunk went out: read again at once when the last read filled the buffer (a stream
  // in full flow, where waiting for readiness would only cost a reactor round trip), else wait.
  void DoReadNext(Direction& direction);
  void WaitForSocket(Direction& direction);
  void OnReadable(Direction& direction, boost::system::error_code ec);
  void OnProbeRead(Direction& direction, boost::system::error_code ec, std::size_t size);
  // An error (end of stream included) from reading `from`.
  void OnReadError(Direction& direction, boost::system::error_code ec);
  // The route's buffer_bytes, at least kMinChunkBytes.
  std::size_t ChunkBytes() const;
  void Forward(Direction& direction, const char* data, std::size_t size);
  std::size_t Follow(Direction& direction, const char* data, std::size_t size, bool stop_at_boundary);
  void Discard(Direction& direction, const char* data, std::size_t size);
  // The upstream's close frame that completes the closing handshake, on its way to a plain
  // client: nothing may follow it (RFC 6455 5.5.1) and the server end closes the TCP
  // connection first (7.1.1), so the proxy need not wait for the upstream's FIN to send its own.
  bool EndsClosingHandshake(const Direction& direction) const;
  // Sends those last bytes and the FIN in one segment (the client reads both in one wakeup),
  // then waits for a FIN from either peer to close both connections (OnEndOfStream), so the
  // upstream, which closes first, keeps the TIME_WAIT and not the proxy's ephemeral port.
  void SendLastAndShutdown(Direction& direction, const char* data, std::size_t size);
  // Sends `data` on `to`: at once when a plain socket takes it all after a short read (no
  // write operation, OnWrite runs inline), else with an asynchronous write for what is left.
  void DoWrite(Direction& direction, const char* data, std::size_t size);
  void OnWrite(Direction& direction, boost::system::error_code ec, std::size_t size);
  void InjectClose(Direction& direction);
  void OnCloseWritten(Direction& direction, boost::system::error_code ec);
  void CheckDrainDone();
  void NoteClose(Direction& direction);
  void OnEndOfStream(Direction& direction);
  // The idle deadline is last_activity_ + the route's timeout whenever the timer is armed, so
  // arming it late (from Housekeep) does not move it.
  void ArmIdleTimer();
  void OnIdleTimer(boost::system::error_code ec);
  // Closes both connections. `handshake_done`: the WebSocket closing handshake went through
  // (or both peers sent FIN), so a TLS side is told with close_notify that nothing was cut,
  // as the HTTP session does, rather than getting a bare FIN.
  void Close(const char* reason, bool handshake_done = false) noexcept;
  // close_notify on `stream`, then its socket is closed (after the peer's close_notify, or
  // tls::kTlsShutdownTimeout); this tunnel lives until then.
  void ShutdownTls(tls::Stream& stream) noexcept;
  void Account() noexcept;

  // What every message touches first (see Direction), then the rest.
  bool closed_ = false;
  bool draining_ = false;
  std::chrono::steady_clock::time_point last_activity_;
  tls::Stream client_;
  tls::Stream upstream_;
  Direction to_upstream_;
  Direction to_client_;
  Worker& worker_;
  std::shared_ptr<const RouteConfig> route_;  // this tunnel's own route: config swaps do not touch it
  http::RouteMetrics& metrics_;
  ConnectionGuard guard_;
  SteadyTimer idle_timer_;
  std::unique_ptr<SteadyTimer> drain_timer_;  // made by Drain(): most tunnels never drain
  TunnelIdentity identity_;
  const char* close_reason_ = nullptr;
  const char* close_initiator_ = "";  // who sent the first close frame: client, upstream or proxy
  std::optional<uint16_t> close_code_;
  bool started_ = false;
  bool upstream_keepalive_pending_ = false;
  bool idle_timer_pending_ = false;  // armed by the next Housekeep (see Start)
  bool accounted_ = false;
};

}  // namespace pier::dataplane::websocket
