#include "tls/passthrough.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "http/access_log.h"
#include "limits/source_access.h"
#include "listener/socket_options.h"

namespace pier::dataplane::tls {

namespace asio = boost::asio;

namespace {
// A route with buffer_bytes 0 (a snapshot that left it unset) still gets a workable chunk.
constexpr std::size_t kMinChunkBytes = 1024;
}  // namespace

Passthrough::Passthrough(Worker& worker, std::shared_ptr<const RouteConfig> route, ConnectionGuard guard,
                         Socket client, asio::ip::address peer, std::string peer_text, std::string server_name,
                         std::string client_hello)
    : worker_(worker),
      route_(std::move(route)),
      metrics_(worker.metrics().For(route_)),
      guard_(std::move(guard)),
      client_(std::move(client)),
      upstream_(client_.get_executor()),
      peer_(std::move(peer)),
      peer_text_(std::move(peer_text)),
      server_name_(std::move(server_name)),
      client_hello_(std::move(client_hello)),
      timer_(client_.get_executor()) {}

Passthrough::~Passthrough() {
  worker_.Unregister(this);
  if (counted_ && !closed_) http::ProxyMetrics::Get().passthrough_active.Decrement();
  if (route_->proto.access_log_off()) return;
  http::AccessRecord record;
  record.kind = http::AccessRecord::Kind::kTlsPassthrough;
  record.start = started_wall_;
  record.client = peer_text_;
  record.host = server_name_;
  record.upstream = choice_.endpoint != nullptr ? std::string_view(choice_.endpoint->id) : std::string_view();
  record.bytes_in = to_upstream_.bytes;
  record.bytes_out = to_client_.bytes;
  record.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
  record.route = route_->name;
  record.close_reason = close_reason_ != nullptr ? close_reason_ : "shutdown";
  try {
    http::WriteAccessLog(record);
  } catch (...) {
    // Logging must not take the process down from a destructor.
  }
}

void Passthrough::Count(http::PassthroughResult result) {
  http::ProxyMetrics::Get().passthrough[static_cast<std::size_t>(result)]->Increment();
}

void Passthrough::Start() {
  worker_.Register(this);
  const RouteConfig& route = *route_;
  if (limits::CheckSource(peer_, route.allow_sources, route.deny_sources) != limits::SourceVerdict::kAllowed) {
    Count(http::PassthroughResult::kDenied);
    Close("denied", "the route's source ranges do not admit the client");
    return;
  }
  if (route.unavailable_status != 0 || !route.cluster || route.cluster->endpoints.empty()) {
    Count(http::PassthroughResult::kUnavailable);
    Close("unavailable",
          route.unavailable_status != 0 ? route.unavailable_reason : "no endpoints for service " + route.service);
    return;
  }
  choice_ = worker_.balancers().Choose(route, {});
  if (!choice_.endpoint) {
    Count(http::PassthroughResult::kUnavailable);
    Close("unavailable", "no endpoint available for service " + route.service);
    return;
  }
  tries_ = 1;
  first_try_ = Clock::now();
  Connect();
}

void Passthrough::Connect() {
  boost::system::error_code ec;
  upstream_.open(choice_.endpoint->address.protocol(), ec);
  if (!ec) upstream_.set_option(asio::ip::tcp::no_delay(true), ec);
  if (ec) {
    OnConnect(Clock::now(), ec);
    return;
  }
  connecting_ = true;
  connect_timed_out_ = false;
  // A deadline of an earlier attempt can have fired with its connect's failure already queued:
  // it must not cut this attempt short.
  const uint32_t attempt = ++connect_attempt_;
  timer_.expires_after(route_->connect_timeout);
  timer_.async_wait([self = shared_from_this(), attempt](boost::system::error_code timer_ec) {
    if (timer_ec || !self->connecting_ || attempt != self->connect_attempt_) return;
    self->connect_timed_out_ = true;
    boost::system::error_code ignored;
    self->upstream_.cancel(ignored);
  });
  upstream_.async_connect(choice_.endpoint->address,
                          [self = shared_from_this(), started = Clock::now()](boost::system::error_code connect_ec) {
                            self->OnConnect(started, connect_ec);
                          });
}

void Passthrough::OnConnect(Clock::time_point started, boost::system::error_code ec) {
  connecting_ = false;
  timer_.cancel();
  if (closed_) return;
  if (connect_timed_out_) ec = boost::beast::error::timeout;
  if (ec) {
    const bool timeout = ec == boost::beast::error::timeout;
    const http::UpstreamError error = timeout                                    ? http::UpstreamError::kConnectTimeout
                                      : ec == asio::error::connection_refused ? http::UpstreamError::kConnectRefused
                                                                               : http::UpstreamError::kConnectFailed;
    metrics_.CountUpstreamError(error);
    if (worker_.balancers().ReportFailure(choice_)) {
      metrics_.CountEjection();
      spdlog::info("upstream {} of {} ejected by passive health", choice_.endpoint->id, route_->service);
    }
    const std::string reason = timeout ? "connect timeout" : ec.message();
    const std::string failed = choice_.endpoint->id;
    if (TryNextEndpoint(timeout)) {
      spdlog::warn("TLS passthrough {} for {} ({}): upstream {}: {}; trying {} (try {})", peer_text_, server_name_,
                   route_->name, failed, reason, choice_.endpoint->id, tries_);
      return;
    }
    spdlog::warn("TLS passthrough {} for {} ({}): upstream {}: {}; connection closed", peer_text_, server_name_,
                 route_->name, choice_.endpoint->id, reason);
    Count(http::PassthroughResult::kConnectFailed);
    Close("connect failed", reason);
    return;
  }
  worker_.balancers().ReportSuccess(choice_);
  metrics_.series().connect_duration.Observe(std::chrono::duration<double>(Clock::now() - started).count());
  Count(http::PassthroughResult::kProxied);
  counted_ = true;
  http::ProxyMetrics::Get().passthrough_active.Increment();
  ApplyTcpKeepAlive(upstream_, worker_.server().options.tcp_keepalive_idle);
  const std::size_t chunk = std::max<std::size_t>(route_->buffer_bytes, kMinChunkBytes);
  to_upstream_.buffer = std::make_unique<char[]>(chunk);
  to_client_.buffer = std::make_unique<char[]>(chunk);
  last_activity_ = Clock::now();
  if (route_->websocket_idle_timeout.count() > 0) ArmIdleTimer(route_->websocket_idle_timeout);
  // The ClientHello (and whatever the client sent behind it) first; then both directions.
  to_upstream_.bytes = client_hello_.size();
  asio::async_write(upstream_, asio::buffer(client_hello_),
                    [self = shared_from_this()](boost::system::error_code write_ec, std::size_t bytes) {
                      self->OnClientHelloSent(write_ec, bytes);
                    });
  DoRead(to_client_);
}

bool Passthrough::TryNextEndpoint(bool timeout) {
  const NextUpstreamPolicy& policy = route_->next_upstream;
  if (!(timeout ? policy.timeout : policy.error)) return false;
  if (policy.tries != 0 && tries_ >= policy.tries) return false;
  if (policy.time_limit.count() != 0 && Clock::now() - first_try_ >= policy.time_limit) return false;
  upstream::Choice next = worker_.balancers().ChooseAgain(*route_, choice_);
  if (!next.endpoint) return false;
  ++tries_;
  metrics_.CountRetry(http::UpstreamRetry::kNextEndpoint);
  choice_ = std::move(next);
  boost::system::error_code ignored;
  upstream_.close(ignored);
  Connect();
  return true;
}

void Passthrough::OnClientHelloSent(boost::system::error_code ec, std::size_t) {
  if (closed_) return;
  if (ec) {
    Close("error", "upstream write failed: " + ec.message());
    return;
  }
  http::ProxyMetrics::Get().bytes_in.Increment(client_hello_.size());
  std::string().swap(client_hello_);
  DoRead(to_upstream_);
}

void Passthrough::DoRead(Direction& direction) {
  const std::size_t chunk = std::max<std::size_t>(route_->buffer_bytes, kMinChunkBytes);
  direction.from->async_read_some(asio::buffer(direction.buffer.get(), chunk),
                                  [self = shared_from_this(), &direction](boost::system::error_code ec,
                                                                          std::size_t bytes) {
                                    self->OnRead(direction, ec, bytes);
                                  });
}

void Passthrough::OnRead(Direction& direction, boost::system::error_code ec, std::size_t bytes) {
  if (closed_) return;
  if (bytes > 0) {
    last_activity_ = Clock::now();
    asio::async_write(*direction.to, asio::buffer(direction.buffer.get(), bytes),
                      [self = shared_from_this(), &direction, ec](boost::system::error_code write_ec, std::size_t n) {
                        // A read that failed after bytes came with it: those bytes go on first.
                        self->OnWrite(direction, write_ec ? write_ec : ec, n);
                      });
    return;
  }
  if (ec == asio::error::eof) {
    // Half-close: the other side may still be sending.
    boost::system::error_code ignored;
    direction.to->shutdown(asio::socket_base::shutdown_send, ignored);
    direction.finished = true;
    Direction& other = &direction == &to_upstream_ ? to_client_ : to_upstream_;
    if (other.finished) Close("closed", "both sides closed");
    return;
  }
  Close("error", std::string(direction.name) + " read failed: " + ec.message());
}

void Passthrough::OnWrite(Direction& direction, boost::system::error_code ec, std::size_t bytes) {
  if (closed_) return;
  direction.bytes += bytes;
  auto& totals = http::ProxyMetrics::Get();
  (direction.to == &client_ ? totals.bytes_out : totals.bytes_in).Increment(bytes);
  if (ec == asio::error::eof) {
    OnRead(direction, ec, 0);
    return;
  }
  if (ec) {
    Close("error", std::string(direction.name) + " copy failed: " + ec.message());
    return;
  }
  DoRead(direction);
}

void Passthrough::ArmIdleTimer(Clock::duration after) {
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) { self->OnIdleTimer(ec); });
}

void Passthrough::OnIdleTimer(boost::system::error_code ec) {
  if (ec || closed_) return;
  // Checked, not re-armed per read: most reads then cost no timer operation.
  const auto idle = Clock::now() - last_activity_;
  if (idle < route_->websocket_idle_timeout) {
    ArmIdleTimer(route_->websocket_idle_timeout - idle);
    return;
  }
  Close("idle timeout", "no byte either way for the route's websocket-idle-timeout");
}

void Passthrough::Close(const char* reason, std::string_view why) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  if (counted_) http::ProxyMetrics::Get().passthrough_active.Decrement();
  spdlog::debug("TLS passthrough {} for {} ({}) to {}: {}; {} bytes in, {} bytes out", peer_text_, server_name_,
                route_->name, choice_.endpoint != nullptr ? choice_.endpoint->id : "-", why, to_upstream_.bytes,
                to_client_.bytes);
  boost::system::error_code ignored;
  timer_.cancel();
  client_.close(ignored);
  upstream_.close(ignored);
}

}  // namespace pier::dataplane::tls
