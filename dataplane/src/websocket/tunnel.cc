#include "websocket/tunnel.h"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <utility>

#include "http/access_log.h"
#include "listener/socket_options.h"
#include "tls/coarse_clock.h"
#include "tls/inq_read.h"
#include "websocket/close_frame.h"

namespace pier::dataplane::websocket {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
// A route with buffer_bytes 0 (a snapshot that left it unset) still gets a workable chunk.
constexpr std::size_t kMinChunkBytes = 1024;
constexpr unsigned kSwitchingProtocols = 101;
// How long a draining tunnel waits for the current frames to end and for both peers to answer
// the proxy's close frame; --drain-timeout caps it.
constexpr std::chrono::milliseconds kDrainCloseWait{5000};
}  // namespace

Tunnel::Tunnel(Worker& worker, std::shared_ptr<const RouteConfig> route, http::RouteMetrics& metrics,
               ConnectionGuard guard, tls::Stream client, tls::Stream upstream, std::string client_pending,
               std::string upstream_pending, TunnelIdentity identity)
    : last_activity_(CoarseNow()),
      client_(std::move(client)),
      upstream_(std::move(upstream)),
      worker_(worker),
      route_(std::move(route)),
      metrics_(metrics),
      guard_(std::move(guard)),
      idle_timer_(client_.get_executor()),
      identity_(std::move(identity)) {
  to_upstream_.name = "client";
  to_upstream_.from = &client_;
  to_upstream_.to = &upstream_;
  to_upstream_.messages_metric = &metrics.series().websocket_messages_in;
  to_upstream_.pending = std::move(client_pending);
  to_client_.name = "upstream";
  to_client_.from = &upstream_;
  to_client_.to = &client_;
  to_client_.messages_metric = &metrics.series().websocket_messages_out;
  to_client_.pending = std::move(upstream_pending);
}

Tunnel::~Tunnel() { Account(); }

void Tunnel::SetObservers(std::unique_ptr<FrameObserver> client_to_upstream,
                          std::unique_ptr<FrameObserver> upstream_to_client) {
  to_upstream_.observer = std::move(client_to_upstream);
  to_client_.observer = std::move(upstream_to_client);
}

void Tunnel::Start() {
  started_ = true;
  worker_.Register(this);
  metrics_.series().websocket_active.Increment();
  boost::system::error_code ec;
  // Reads happen after a readiness wait and must not block the thread. A plain read never
  // waits (DeadlineSocket::read_some). OpenSSL may also write inside a read (a TLS 1.3 key
  // update answer), through Asio's blocking write unless the socket is non-blocking, so only
  // the TLS sides pay the ioctl that makes them so.
  if (client_.is_tls()) client_.socket().non_blocking(true, ec);
  if (!ec && upstream_.is_tls()) upstream_.socket().non_blocking(true, ec);
  // Deadlines left by the HTTP exchange must not cut the tunnel: the idle timer rules now.
  client_.expires_never();
  upstream_.expires_never();
  if (ec) {
    spdlog::warn("websocket tunnel {}: cannot make sockets non-blocking: {}", identity_.request_id, ec.message());
    Close("error");
    return;
  }
  // An idle timeout of two housekeeping intervals or more cannot expire before the first
  // housekeeping pass (at most one interval away), which arms it; a shorter one is armed now.
  if (route_->websocket_idle_timeout >= 2 * Worker::kHousekeepingInterval) {
    idle_timer_pending_ = true;
  } else {
    ArmIdleTimer();
  }
  for (Direction* direction : {&to_upstream_, &to_client_}) {
    if (closed_) return;  // the first direction's leftovers could not be sent
    if (direction->pending.empty()) {
      DoWaitReadable(*direction);
    } else {
      Forward(*direction, direction->pending.data(), direction->pending.size());
    }
  }
  // The 101 was still on its way when the drain started: Worker::DrainConnections did not see
  // this tunnel, so it drains itself.
  if (!closed_ && worker_.server().draining.load(std::memory_order_relaxed)) Drain();
}

void Tunnel::DoWaitReadable(Direction& direction) {
  if (direction.deferred_error) {
    OnReadError(direction, std::exchange(direction.deferred_error, {}));
    return;
  }
  if (direction.from->is_tls()) {
    // Try a read first (see tunnel.h); posted, so a busy stream cannot recurse without bound.
    direction.waiting = true;
    asio::post(client_.get_executor(), [self = shared_from_this(), &direction] { self->OnReadable(direction, {}); });
    return;
  }
  WaitForSocket(direction);
}

void Tunnel::WaitForSocket(Direction& direction) {
  direction.waiting = true;
  if (!direction.from->is_tls()) {
    // The tunnel never sets a deadline on its sockets (the idle timer rules), so the raw
    // socket's read is the same as the stream's.
    direction.from->socket().async_read_some(
        tls::WithInq(asio::buffer(direction.probe)),
        [self = shared_from_this(), &direction](boost::system::error_code ec, std::size_t size) {
          self->OnProbeRead(direction, ec, size);
        });
    return;
  }
  direction.from->socket().async_wait(tcp::socket::wait_read,
                                      [self = shared_from_this(), &direction](boost::system::error_code ec) {
                                        self->OnReadable(direction, ec);
                                      });
}

void Tunnel::OnReadable(Direction& direction, boost::system::error_code ec) {
  direction.waiting = false;
  if (closed_) return;  // Close() cancelled the wait
  if (ec) {
    spdlog::debug("websocket tunnel {}: waiting on {} failed: {}", identity_.request_id, direction.name, ec.message());
    Close(direction.from == &client_ ? "client error" : "upstream error");
    return;
  }
  std::size_t chunk = ChunkBytes();
  // Not value-initialised: read_some overwrites what it uses, and zeroing 16 KiB per message
  // was the proxy's largest user-space cost under echo load.
  if (!direction.buffer) direction.buffer = std::make_unique_for_overwrite<char[]>(chunk);
  std::size_t n = direction.from->read_some(asio::buffer(direction.buffer.get(), chunk), ec);
  direction.filled = !ec && n == chunk;
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    // Readiness was spurious, or (TLS) nothing whole is buffered: give the buffer back and wait.
    direction.buffer.reset();
    WaitForSocket(direction);
    return;
  }
  if (ec) {
    OnReadError(direction, ec);
    return;
  }
  last_activity_ = CoarseNow();
  Forward(direction, direction.buffer.get(), n);
}

void Tunnel::OnProbeRead(Direction& direction, boost::system::error_code ec, std::size_t size) {
  direction.waiting = false;
  if (closed_) return;  // Close() cancelled the read
  if (ec) {
    OnReadError(direction, ec);
    return;
  }
  last_activity_ = CoarseNow();
  direction.filled = false;
  if (size < direction.probe.size()) {
    Forward(direction, direction.probe.data(), size);  // the whole message was this small
    return;
  }
  // The probe is full, so more is probably queued: the rest goes behind it in a chunk buffer
  // and leaves in the same write.
  std::size_t chunk = ChunkBytes();
  if (!direction.buffer) direction.buffer = std::make_unique_for_overwrite<char[]>(chunk);
  std::memcpy(direction.buffer.get(), direction.probe.data(), size);
  std::size_t more = direction.from->read_some(asio::buffer(direction.buffer.get() + size, chunk - size), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec = {};
  } else if (ec) {
    direction.deferred_error = ec;  // the bytes already read go out first
  }
  direction.filled = !ec && size + more == chunk;
  Forward(direction, direction.buffer.get(), size + more);
}

void Tunnel::OnReadError(Direction& direction, boost::system::error_code ec) {
  direction.buffer.reset();
  // A TLS peer that closes without close_notify ends its stream all the same.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    OnEndOfStream(direction);
    return;
  }
  // Includes a half-open peer found by TCP keepalive (ETIMEDOUT).
  spdlog::debug("websocket tunnel {}: reading {} failed: {}", identity_.request_id, direction.name, ec.message());
  Close(direction.from == &client_ ? "client reset" : "upstream reset");
}

std::size_t Tunnel::ChunkBytes() const { return std::max<std::size_t>(route_->buffer_bytes, kMinChunkBytes); }

void Tunnel::Forward(Direction& direction, const char* data, std::size_t size) {
  if (direction.close_sent) {
    // Draining, and this side already has the proxy's close: only watch for its answer.
    Discard(direction, data, size);
    direction.buffer.reset();
    if (closed_) return;
    DoWaitReadable(direction);
    return;
  }
  if (!draining_) {
    Follow(direction, data, size, false);
    if (EndsClosingHandshake(direction)) {
      SendLastAndShutdown(direction, data, size);
      return;
    }
    DoWrite(direction, data, size);
    return;
  }
  // Draining: forward up to the end of the frame in progress, drop the rest (the peer is
  // about to be told the connection is going away), then inject the close frame.
  std::size_t deliver = Follow(direction, data, size, true);
  if (direction.frames.lost()) {
    Close("draining");
    return;
  }
  if (direction.frames.at_boundary()) Discard(direction, data + deliver, size - deliver);
  if (closed_) return;
  if (deliver != 0) {
    DoWrite(direction, data, deliver);
    return;
  }
  direction.buffer.reset();
  if (direction.frames.at_boundary()) {
    InjectClose(direction);
  } else {
    DoWaitReadable(direction);
  }
}

std::size_t Tunnel::Follow(Direction& direction, const char* data, std::size_t size, bool stop_at_boundary) {
  uint64_t before = direction.frames.messages();
  std::size_t used = direction.frames.Consume(data, size, stop_at_boundary);
  uint64_t delta = direction.frames.messages() - before;
  if (delta != 0) {
    direction.messages += delta;
    direction.messages_metric->Increment(delta);
  }
  if (direction.observer) direction.observer->OnBytes(data, used);
  NoteClose(direction);
  return used;
}

void Tunnel::Discard(Direction& direction, const char* data, std::size_t size) {
  if (size != 0) direction.frames.Consume(data, size, false);
  NoteClose(direction);
  CheckDrainDone();
}

void Tunnel::NoteClose(Direction& direction) {
  if (close_code_ || *close_initiator_ != '\0' || !direction.frames.close_seen()) return;
  close_initiator_ = direction.name;
  close_code_ = direction.frames.close_code();
}

bool Tunnel::EndsClosingHandshake(const Direction& direction) const {
  return &direction == &to_client_ && direction.frames.close_seen() && direction.frames.at_boundary() &&
         to_upstream_.frames.close_seen() && !to_upstream_.writing && !client_.is_tls();
}

void Tunnel::SendLastAndShutdown(Direction& direction, const char* data, std::size_t size) {
  // MSG_MORE holds the bytes in the kernel until the shutdown right after, which sends them
  // with the FIN in one segment. MSG_DONTWAIT: a full send buffer must not block the worker.
  ssize_t sent = ::send(client_.socket().native_handle(), data, size, MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL);
  std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
  if (done < size) {
    // The rest goes the usual way, and the upstream's FIN ends the tunnel as before; a send
    // that failed fails again there and closes the tunnel with the reason.
    if (done != 0) {
      direction.bytes += done;
      http::ProxyMetrics::Get().bytes_out.Increment(done);
    }
    DoWrite(direction, data + done, size - done);
    return;
  }
  boost::system::error_code ignored;
  client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  // Whatever the upstream still sends is only followed (nothing may follow its close frame);
  // its FIN, or the client's, then closes both connections (OnEndOfStream).
  direction.close_sent = true;
  direction.writing = true;
  OnWrite(direction, {}, size);
}

void Tunnel::DoWrite(Direction& direction, const char* data, std::size_t size) {
  std::size_t sent = 0;
  if (!direction.filled) {
    // A plain side usually takes the bytes at once: sent here, they need no write operation,
    // no completion queued behind the next reactor poll and no handler run of its own. Only
    // after a short read, whose OnWrite goes on to wait for the next one (DoReadNext): after a
    // full one it would read again at once, and a stream in full flow would recurse.
    boost::system::error_code ec;
    sent = direction.to->write_some_now(asio::const_buffer(data, size), ec);  // TLS: 0, would_block
    if (sent == size || (ec && ec != asio::error::would_block && ec != asio::error::try_again)) {
      OnWrite(direction, ec, sent);
      return;
    }
  }
  direction.writing = true;
  asio::async_write(
      *direction.to, asio::buffer(data + sent, size - sent),
      [self = shared_from_this(), &direction, sent](boost::system::error_code ec, std::size_t written) {
        self->OnWrite(direction, ec, sent + written);
      });
}

void Tunnel::OnWrite(Direction& direction, boost::system::error_code ec, std::size_t size) {
  direction.writing = false;
  if (closed_) return;
  if (ec) {
    Close(direction.to == &client_ ? "client write failed" : "upstream write failed");
    return;
  }
  last_activity_ = CoarseNow();
  direction.bytes += size;
  auto& metrics = http::ProxyMetrics::Get();
  (direction.to == &client_ ? metrics.bytes_out : metrics.bytes_in).Increment(size);
  if (!direction.pending.empty()) std::string().swap(direction.pending);
  if (draining_ && direction.frames.at_boundary()) {
    direction.buffer.reset();
    InjectClose(direction);
    return;
  }
  DoReadNext(direction);
}

void Tunnel::DoReadNext(Direction& direction) {
  if (direction.deferred_error) {
    OnReadError(direction, std::exchange(direction.deferred_error, {}));
    return;
  }
  if (!direction.filled || direction.from->is_tls()) {
    // TLS always tries a read first (DoWaitReadable); a plain side that had less than a buffer
    // waits, so an echo-style exchange costs no read that finds nothing.
    direction.buffer.reset();
    DoWaitReadable(direction);
    return;
  }
  // The buffer is reused; OnReadable gives it back if nothing is there after all. Not a
  // recursion: the write this leads to completes through the io_context, never inline.
  OnReadable(direction, {});
}

void Tunnel::InjectClose(Direction& direction) {
  direction.close_sent = true;
  if (*close_initiator_ == '\0') {
    close_initiator_ = "proxy";
    close_code_ = kCloseGoingAway;
  }
  if (direction.finished) {  // `to` was already shut down: the FIN said goodbye instead
    CheckDrainDone();
    return;
  }
  direction.pending = MakeCloseFrame(kCloseGoingAway, /*masked=*/direction.to == &upstream_);
  direction.writing = true;
  asio::async_write(*direction.to, asio::buffer(direction.pending),
                    [self = shared_from_this(), &direction](boost::system::error_code ec, std::size_t) {
                      self->OnCloseWritten(direction, ec);
                    });
}

void Tunnel::OnCloseWritten(Direction& direction, boost::system::error_code ec) {
  direction.writing = false;
  if (closed_) return;
  if (ec) {
    Close(direction.to == &client_ ? "client write failed" : "upstream write failed");
    return;
  }
  std::string().swap(direction.pending);
  CheckDrainDone();
  if (!closed_ && !direction.waiting && !direction.finished) DoWaitReadable(direction);
}

void Tunnel::CheckDrainDone() {
  if (!draining_ || closed_) return;
  auto answered = [](const Direction& d) { return d.finished || d.frames.close_seen(); };
  bool sent = to_client_.close_sent && to_upstream_.close_sent && !to_client_.writing && !to_upstream_.writing;
  if (sent && answered(to_upstream_) && answered(to_client_)) Close("draining", /*handshake_done=*/true);
}

void Tunnel::OnEndOfStream(Direction& direction) {
  direction.finished = true;
  Direction& other = &direction == &to_upstream_ ? to_client_ : to_upstream_;
  if (!draining_ && direction.frames.close_seen() && other.frames.close_seen() && !other.writing) {
    // The closing handshake is complete (RFC 6455 7.1.1): both close frames went through and
    // nothing may follow them, so the first FIN ends the tunnel. Holding the other side
    // half-open until its own FIN would only cost a wakeup and two shutdowns per connection.
    Close("closed", /*handshake_done=*/true);
    return;
  }
  // Pass the FIN on and keep the other direction running until it ends as well.
  boost::system::error_code ignored;
  // Over TLS this is a plain FIN without close_notify: a TLS shutdown would need the read side
  // the other direction is still using, and the WebSocket close frames already said goodbye.
  direction.to->socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (to_upstream_.finished && to_client_.finished) {
    Close(draining_ ? "draining" : "closed", /*handshake_done=*/true);
    return;
  }
  if (draining_ && !direction.close_sent && direction.frames.at_boundary()) {
    InjectClose(direction);
    return;
  }
  CheckDrainDone();
}

void Tunnel::Housekeep() noexcept {
  if (closed_) return;
  if (idle_timer_pending_) {
    try {
      ArmIdleTimer();
      idle_timer_pending_ = false;
    } catch (const std::exception& e) {
      // Out of memory. Housekeeping must not end the connection: the next pass tries again.
      spdlog::warn("websocket tunnel {}: cannot arm the idle timer: {}", identity_.request_id, e.what());
    }
  }
  if (!upstream_keepalive_pending_) return;
  upstream_keepalive_pending_ = false;
  ApplyTcpKeepAlive(upstream_.socket(), worker_.server().options.tcp_keepalive_idle);
}

void Tunnel::ArmIdleTimer() {
  idle_timer_.expires_at(last_activity_ + route_->websocket_idle_timeout);
  idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) { self->OnIdleTimer(ec); });
}

void Tunnel::OnIdleTimer(boost::system::error_code ec) {
  if (ec || closed_) return;
  // Activity only moves last_activity_ forward; the timer is re-armed lazily instead of on
  // every chunk.
  if (Clock::now() - last_activity_ >= route_->websocket_idle_timeout) {
    Close("idle timeout");
    return;
  }
  ArmIdleTimer();
}

void Tunnel::Drain() noexcept {
  if (closed_ || draining_) return;
  draining_ = true;
  if (to_client_.frames.lost() || to_upstream_.frames.lost()) {
    // Not WebSocket framing as far as the tracker can tell: no safe place for a close frame.
    Close("draining");
    return;
  }
  auto wait = std::min<std::chrono::milliseconds>(kDrainCloseWait, worker_.server().options.drain_timeout);
  drain_timer_ = std::make_unique<SteadyTimer>(client_.get_executor());
  drain_timer_->expires_after(wait);
  drain_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->Close("drain timeout");
  });
  for (Direction* direction : {&to_client_, &to_upstream_}) {
    // A direction mid-write or mid-frame injects when that chunk or frame is through.
    if (!closed_ && !direction->writing && !direction->close_sent && direction->frames.at_boundary()) {
      InjectClose(*direction);
    }
  }
}

void Tunnel::Close(const char* reason, bool handshake_done) noexcept {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  idle_timer_.cancel();
  if (drain_timer_) drain_timer_->cancel();
  // A TLS shutdown writes and reads on the stream: only when no write of the tunnel is pending.
  const bool graceful = handshake_done && !to_client_.writing && !to_upstream_.writing;
  for (tls::Stream* stream : {&client_, &upstream_}) {
    if (graceful && stream->is_tls()) {
      ShutdownTls(*stream);
    } else {
      boost::system::error_code ignored;
      stream->socket().close(ignored);
    }
  }
  Account();
}

void Tunnel::ShutdownTls(tls::Stream& stream) noexcept {
  boost::system::error_code ignored;
  try {
    auto self = shared_from_this();
    // The readiness wait on it ends; its handler sees closed_.
    stream.socket().cancel(ignored);
    stream.expires_after(tls::kTlsShutdownTimeout);
    stream.tls().async_shutdown([self, &stream](boost::system::error_code) {
      boost::system::error_code ignored;
      stream.socket().close(ignored);
    });
  } catch (const std::exception&) {
    stream.socket().close(ignored);  // no memory for the handler: a bare close as before
  }
}

void Tunnel::Account() noexcept {
  if (accounted_ || !started_) return;
  accounted_ = true;
  worker_.Unregister(this);
  metrics_.series().websocket_active.Decrement();
  auto lifetime = std::chrono::duration<double>(Clock::now() - identity_.started);
  metrics_.series().websocket_duration.Observe(lifetime.count());
  if (route_->proto.access_log_off()) return;
  http::AccessRecord record;
  record.start = identity_.started_wall;
  record.client = identity_.client;
  record.method = "GET";
  record.host = identity_.host;
  record.path = identity_.path;
  record.status = kSwitchingProtocols;
  record.upstream = identity_.upstream;
  record.bytes_in = identity_.handshake_bytes_in + to_upstream_.bytes;
  record.bytes_out = identity_.handshake_bytes_out + to_client_.bytes;
  record.duration_ms = lifetime.count() * 1000.0;
  record.route = route_->name;
  record.request_id = identity_.request_id;
  record.user = identity_.user;
  record.kind = http::AccessRecord::Kind::kWebSocket;
  record.close_reason = close_reason_ ? close_reason_ : "shutdown";
  record.messages_in = to_upstream_.messages;
  record.messages_out = to_client_.messages;
  record.close_initiator = close_initiator_;
  record.close_code = close_code_.value_or(0);
  try {
    http::WriteAccessLog(record);
  } catch (...) {
    // Logging must not take the process down from a destructor.
  }
}

}  // namespace pier::dataplane::websocket
