// The clients of /ws/chat on this backend instance. Everything runs on the one io_context
// thread, so membership needs no lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include <boost/beast/websocket/rfc6455.hpp>

namespace pier::chat {

class WebSocketSession;

class ChatRoom final {
 public:
  explicit ChatRoom(std::string backend_name);

  // Returns the client id the member is known by in messages.
  uint64_t Join(WebSocketSession* member);
  void Leave(WebSocketSession* member) noexcept;
  std::size_t Size() const noexcept { return members_.size(); }

  // The JSON a new member receives first: which backend it is on.
  std::string HelloFor(uint64_t client_id) const;
  // Wraps a client's text as a chat message and sends it to every member, the sender included.
  void Broadcast(uint64_t from_client, std::string_view text);
  // Shutdown: every member gets a close frame with this code.
  void CloseAll(boost::beast::websocket::close_code code);

  const std::string& backend_name() const noexcept { return backend_name_; }

 private:
  std::string backend_name_;
  uint64_t next_client_id_ = 1;
  std::unordered_set<WebSocketSession*> members_;
};

}  // namespace pier::chat
