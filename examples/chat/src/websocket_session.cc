#include "websocket_session.h"

#include <spdlog/spdlog.h>

namespace pier::chat {
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace {

constexpr std::size_t kMaxQueuedMessages = 256;
// Echo reading resumes once the client has caught up this far.
constexpr std::size_t kResumeReadingBelow = kMaxQueuedMessages / 2;
constexpr std::size_t kMaxChatMessageBytes = 16 * 1024;
constexpr std::size_t kMaxEchoMessageBytes = 1024 * 1024;
constexpr std::chrono::seconds kHandshakeTimeout{10};
// How long a closing peer has to take our last message and the close frame. A client that
// stopped reading never will: the write stays stuck, and only cutting TCP frees the session.
constexpr std::chrono::seconds kCloseGrace{2};

}  // namespace

WebSocketSession::WebSocketSession(beast::tcp_stream stream, WebSocketEndpoint endpoint,
                                   std::shared_ptr<ChatRoom> room, const WebSocketOptions& options,
                                   std::string peer)
    : ws_(std::move(stream)),
      endpoint_(endpoint),
      room_(std::move(room)),
      peer_(std::move(peer)),
      close_deadline_(ws_.get_executor()) {
  // The websocket stream keeps its own timers; the HTTP read deadline must not follow it.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = kHandshakeTimeout;
  if (options.ping_interval.count() > 0) {
    timeout.idle_timeout = options.ping_interval * 2;
    timeout.keep_alive_pings = true;
  } else {
    timeout.idle_timeout = websocket::stream_base::none();
    timeout.keep_alive_pings = false;
  }
  ws_.set_option(timeout);
  ws_.read_message_max(endpoint_ == WebSocketEndpoint::kChat ? kMaxChatMessageBytes : kMaxEchoMessageBytes);
  std::string backend = room_->backend_name();
  ws_.set_option(websocket::stream_base::decorator([backend](websocket::response_type& response) {
    response.set(beast::http::field::server, "pier-chat-backend");
    response.set("X-Backend", backend);
  }));
}

WebSocketSession::~WebSocketSession() { LeaveRoom(); }

void WebSocketSession::Run(const Request& request) {
  ws_.async_accept(request, beast::bind_front_handler(&WebSocketSession::OnAccept, shared_from_this()));
}

void WebSocketSession::OnAccept(beast::error_code ec) {
  if (ec) {
    spdlog::info("websocket handshake with {} failed: {}", peer_, ec.message());
    return;
  }
  if (endpoint_ == WebSocketEndpoint::kChat) {
    client_id_ = room_->Join(this);
    in_room_ = true;
    spdlog::info("chat client {} joined from {} ({} in the room)", client_id_, peer_, room_->Size());
    Enqueue({std::make_shared<const std::string>(room_->HelloFor(client_id_)), true});
  } else {
    spdlog::debug("echo client connected from {}", peer_);
  }
  DoRead();
}

void WebSocketSession::DoRead() {
  ws_.async_read(buffer_, beast::bind_front_handler(&WebSocketSession::OnRead, shared_from_this()));
}

void WebSocketSession::OnRead(beast::error_code ec, std::size_t) {
  if (ec) {
    // closed: the peer said goodbye properly; the rest (resets, timeouts, protocol errors
    // that Beast has already answered with a close frame) only end this one client.
    if (ec != websocket::error::closed) spdlog::debug("websocket read from {} ended: {}", peer_, ec.message());
    finished_ = true;
    close_deadline_.cancel();
    LeaveRoom();
    return;
  }
  if (pending_close_) {
    // Keep reading until the peer answers our close frame; its messages no longer matter.
    buffer_.consume(buffer_.size());
    DoRead();
    return;
  }
  bool text = ws_.got_text();
  auto payload = std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data()));
  buffer_.consume(buffer_.size());

  if (endpoint_ == WebSocketEndpoint::kChat) {
    // Binary frames have no meaning in the chat protocol; ignoring them keeps the room usable.
    if (text) room_->Broadcast(client_id_, *payload);
    DoRead();
    return;
  }
  Enqueue({std::move(payload), text});
  if (queue_.size() >= kMaxQueuedMessages) {
    read_paused_ = true;  // backpressure: OnWrite resumes reading
    return;
  }
  DoRead();
}

void WebSocketSession::SendText(std::shared_ptr<const std::string> text) {
  if (finished_ || pending_close_) return;
  if (queue_.size() >= kMaxQueuedMessages) {
    spdlog::warn("chat client {} at {} is too slow ({} messages queued); closing it", client_id_, peer_,
                 queue_.size());
    Close(websocket::close_code::policy_error);
    return;
  }
  Enqueue({std::move(text), true});
}

void WebSocketSession::Close(websocket::close_code code) {
  if (finished_ || pending_close_) return;
  pending_close_ = websocket::close_reason(code);
  LeaveRoom();
  close_deadline_.expires_after(kCloseGrace);
  close_deadline_.async_wait(beast::bind_front_handler(&WebSocketSession::OnCloseDeadline, shared_from_this()));
  // The front message may be in the middle of async_write, which still references it.
  if (writing_) {
    queue_.erase(queue_.begin() + 1, queue_.end());
  } else {
    queue_.clear();
    DoClose();
  }
}

void WebSocketSession::Enqueue(Outgoing message) {
  queue_.push_back(std::move(message));
  if (!writing_) DoWrite();
}

void WebSocketSession::DoWrite() {
  writing_ = true;
  const Outgoing& front = queue_.front();
  ws_.text(front.text);
  ws_.async_write(boost::asio::buffer(*front.payload),
                  beast::bind_front_handler(&WebSocketSession::OnWrite, shared_from_this()));
}

void WebSocketSession::OnWrite(beast::error_code ec, std::size_t) {
  writing_ = false;
  queue_.pop_front();
  if (ec) {
    spdlog::debug("websocket write to {} failed: {}", peer_, ec.message());
    finished_ = true;
    close_deadline_.cancel();
    queue_.clear();
    LeaveRoom();
    return;
  }
  if (pending_close_) {
    queue_.clear();
    DoClose();
    return;
  }
  if (!queue_.empty()) DoWrite();
  if (read_paused_ && queue_.size() < kResumeReadingBelow) {
    read_paused_ = false;
    DoRead();
  }
}

void WebSocketSession::DoClose() {
  finished_ = true;
  ws_.async_close(*pending_close_, beast::bind_front_handler(&WebSocketSession::OnClose, shared_from_this()));
}

void WebSocketSession::OnClose(beast::error_code ec) {
  // The peer may already be gone; there is nothing left to do either way.
  if (ec) spdlog::debug("websocket close to {}: {}", peer_, ec.message());
}

void WebSocketSession::OnCloseDeadline(beast::error_code ec) {
  if (ec == boost::asio::error::operation_aborted) return;  // the peer read everything and left
  spdlog::info("websocket peer {} did not take its close frame within {} s; cutting the connection", peer_,
               kCloseGrace.count());
  beast::get_lowest_layer(ws_).close();
}

void WebSocketSession::LeaveRoom() noexcept {
  if (!in_room_) return;
  in_room_ = false;
  room_->Leave(this);
}

}  // namespace pier::chat
