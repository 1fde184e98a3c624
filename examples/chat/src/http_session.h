// One plain HTTP connection: keep-alive, pipelined requests answered in order, and a hand-off
// to a WebSocketSession when a request upgrades.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>
#include <string>

#include "chat_room.h"
#include "http_routes.h"
#include "static_files.h"
#include "websocket_session.h"

namespace pier::chat {

// What every session of one backend shares, read-only except the room.
struct BackendContext {
  std::string name;
  StaticFiles files;
  WebSocketOptions websocket;
  std::shared_ptr<ChatRoom> room;
};

class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<const BackendContext> context);

  void Run();

 private:
  void DoRead();
  void OnRead(boost::beast::error_code ec, std::size_t bytes);
  void Reply(Response response);
  void ReplyError(unsigned status, std::string reason);
  void OnWrite(bool close, boost::beast::error_code ec, std::size_t bytes);
  void DoClose();

  boost::beast::tcp_stream stream_;
  std::shared_ptr<const BackendContext> context_;
  std::string peer_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<Response> response_;
};

}  // namespace pier::chat
