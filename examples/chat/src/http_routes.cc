#include "http_routes.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <optional>

namespace pier::chat {
namespace http = boost::beast::http;
namespace {

constexpr std::string_view kServerName = "pier-chat-backend";
constexpr std::string_view kStatusPrefix = "/status/";
constexpr std::string_view kReject400 = "/ws/reject-400";
constexpr std::string_view kReject426 = "/ws/reject-426";
constexpr unsigned kMinStatus = 200;  // 1xx are not final responses
constexpr unsigned kMaxStatus = 599;

Response MakeResponse(const Request& request, const RouteContext& context, unsigned status,
                      std::string body, std::string_view content_type = "text/plain; charset=utf-8") {
  Response response;
  response.version(request.version());
  response.result(status);
  if (http::int_to_status(status) == http::status::unknown) response.reason("Status");
  response.set(http::field::server, kServerName);
  response.set("X-Backend", context.backend_name);
  response.keep_alive(request.keep_alive());
  bool bodyless = status == 204 || status == 304 || request.method() == http::verb::head;
  if (!bodyless) {
    response.set(http::field::content_type, content_type);
    response.body() = std::move(body);
  }
  response.prepare_payload();
  if (request.method() == http::verb::head) response.body().clear();
  return response;
}

std::optional<unsigned> ParseStatus(std::string_view text) {
  unsigned status = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
  if (ec != std::errc() || end != text.data() + text.size() || text.size() != 3) return std::nullopt;
  if (status < kMinStatus || status > kMaxStatus) return std::nullopt;
  return status;
}

// Request headers as JSON: "headers" folds repeated names with ", " (RFC 9110 5.3) under their
// lowercase name; "header_list" keeps every field as received, in order, for tests that care
// about duplicates.
std::string HeadersJson(const Request& request, const RouteContext& context) {
  nlohmann::json headers = nlohmann::json::object();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value(field.value());
    list.push_back({name, value});
    auto& slot = headers[name];
    slot = slot.is_null() ? nlohmann::json(value) : nlohmann::json(slot.get<std::string>() + ", " + value);
  }
  nlohmann::json out = {
      {"backend", context.backend_name},
      {"method", std::string(request.method_string())},
      {"target", std::string(request.target())},
      {"version", request.version() == 11 ? "HTTP/1.1" : "HTTP/1.0"},
      {"peer", context.peer_address},
      {"headers", std::move(headers)},
      {"header_list", std::move(list)},
      {"body_bytes", request.body().size()},
  };
  // Header bytes are whatever the client sent; replace invalid UTF-8 rather than throw.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string_view PathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

WebSocketEndpoint WebSocketEndpointFor(std::string_view target) {
  std::string_view path = PathOf(target);
  if (path == "/ws/chat") return WebSocketEndpoint::kChat;
  if (path == "/ws" || path == "/ws/" || path == "/ws/echo") return WebSocketEndpoint::kEcho;
  return WebSocketEndpoint::kNone;
}

Response HandleHttp(const Request& request, const RouteContext& context) {
  std::string_view path = PathOf(request.target());

  if (path == "/healthz") return MakeResponse(request, context, 200, "ok\n");
  if (path == "/headers") return MakeResponse(request, context, 200, HeadersJson(request, context), "application/json");
  if (path.starts_with(kStatusPrefix)) {
    auto status = ParseStatus(path.substr(kStatusPrefix.size()));
    if (!status) return MakeResponse(request, context, 400, "status must be a number from 200 to 599\n");
    return MakeResponse(request, context, *status, "status " + std::to_string(*status) + " on purpose\n");
  }
  if (path == kReject400) return MakeResponse(request, context, 400, "upgrade refused with 400 on purpose\n");
  if (path == kReject426) {
    // RFC 9110 15.5.22: a 426 names the protocol to switch to.
    Response response = MakeResponse(request, context, 426, "upgrade refused with 426 on purpose\n");
    response.set(http::field::upgrade, "websocket");
    return response;
  }
  if (WebSocketEndpointFor(path) != WebSocketEndpoint::kNone) {
    Response response = MakeResponse(request, context, 426, "this endpoint needs a WebSocket upgrade\n");
    response.set(http::field::upgrade, "websocket");
    return response;
  }

  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    Response response = MakeResponse(request, context, 405, "only GET and HEAD are served here\n");
    response.set(http::field::allow, "GET, HEAD");
    return response;
  }
  if (auto file = context.files.Find(path)) {
    Response response = MakeResponse(request, context, 200, std::move(file->body), file->content_type);
    response.set(http::field::cache_control, "no-cache");
    return response;
  }
  return MakeResponse(request, context, 404, "no such page on " + std::string(context.backend_name) + "\n");
}

}  // namespace pier::chat
