// One upgraded client: /ws/chat (a member of the ChatRoom) or /ws/echo (every message comes
// back as it was, text or binary). Outgoing messages wait in a bounded queue: an echo client
// that does not read is not read from either, a chat client that falls behind is dropped.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "chat_room.h"
#include "http_routes.h"

namespace pier::chat {

struct WebSocketOptions {
  // Server pings after this much silence and drops the peer if nothing arrives for twice as
  // long; zero turns both off.
  std::chrono::seconds ping_interval{30};
};

class WebSocketSession final : public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(boost::beast::tcp_stream stream, WebSocketEndpoint endpoint, std::shared_ptr<ChatRoom> room,
                   const WebSocketOptions& options, std::string peer);
  ~WebSocketSession();

  WebSocketSession(const WebSocketSession&) = delete;
  WebSocketSession& operator=(const WebSocketSession&) = delete;

  // Answers the upgrade request with 101 and starts reading.
  void Run(const Request& request);

  // Queues a text message; a member whose queue is full is closed instead (1008).
  void SendText(std::shared_ptr<const std::string> text);
  // Sends a close frame once the message being written (if any) is out; queued ones are dropped.
  // A peer that does not read gets its connection cut after a short grace instead.
  void Close(boost::beast::websocket::close_code code);

 private:
  struct Outgoing {
    std::shared_ptr<const std::string> payload;
    bool text = true;
  };

  void OnAccept(boost::beast::error_code ec);
  void DoRead();
  void OnRead(boost::beast::error_code ec, std::size_t bytes);
  void Enqueue(Outgoing message);
  void DoWrite();
  void OnWrite(boost::beast::error_code ec, std::size_t bytes);
  void DoClose();
  void OnClose(boost::beast::error_code ec);
  void OnCloseDeadline(boost::beast::error_code ec);
  void LeaveRoom() noexcept;

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  WebSocketEndpoint endpoint_;
  std::shared_ptr<ChatRoom> room_;
  std::string peer_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer close_deadline_;
  std::deque<Outgoing> queue_;
  uint64_t client_id_ = 0;
  bool in_room_ = false;
  bool writing_ = false;
  bool read_paused_ = false;
  bool finished_ = false;  // closing or failed: nothing more is sent
  std::optional<boost::beast::websocket::close_reason> pending_close_;
};

}  // namespace pier::chat
