#include "chat_room.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <vector>

#include "websocket_session.h"

namespace pier::chat {
namespace {

constexpr std::size_t kMaxNameBytes = 64;

int64_t NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The page sends {"name": "...", "text": "..."}; anything else (curl, wscat) is taken as the
// text itself, so a bare string works too.
std::pair<std::string, std::string> ParseChatMessage(std::string_view raw) {
  auto parsed = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("text") && parsed["text"].is_string()) {
    std::string name;
    if (parsed.contains("name") && parsed["name"].is_string()) {
      name = parsed["name"].get<std::string>().substr(0, kMaxNameBytes);
    }
    return {std::move(name), parsed["text"].get<std::string>()};
  }
  return {"", std::string(raw)};
}

}  // namespace

ChatRoom::ChatRoom(std::string backend_name) : backend_name_(std::move(backend_name)) {}

uint64_t ChatRoom::Join(WebSocketSession* member) {
  members_.insert(member);
  return next_client_id_++;
}

void ChatRoom::Leave(WebSocketSession* member) noexcept { members_.erase(member); }

std::string ChatRoom::HelloFor(uint64_t client_id) const {
  return Dump({{"type", "hello"},
               {"backend", backend_name_},
               {"client", client_id},
               {"clients", members_.size()},
               {"ts", NowMillis()}});
}

void ChatRoom::Broadcast(uint64_t from_client, std::string_view text) {
  auto [name, body] = ParseChatMessage(text);
  auto payload = std::make_shared<const std::string>(Dump({{"type", "message"},
                                                           {"backend", backend_name_},
                                                           {"from", from_client},
                                                           {"name", name},
                                                           {"text", body},
                                                           {"ts", NowMillis()}}));
  // Send() may drop a slow member, which removes it from members_: iterate over a copy.
  std::vector<WebSocketSession*> members(members_.begin(), members_.end());
  for (auto* member : members) member->SendText(payload);
}

void ChatRoom::CloseAll(boost::beast::websocket::close_code code) {
  std::vector<WebSocketSession*> members(members_.begin(), members_.end());
  for (auto* member : members) member->Close(code);
}

}  // namespace pier::chat
