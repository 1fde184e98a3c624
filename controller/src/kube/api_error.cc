#include "kube/api_error.h"

#include <nlohmann/json.hpp>

#include <charconv>

namespace pier::kube {
namespace {

// Bodies of error responses end up in log lines; a proxy's HTML page should not fill them.
constexpr size_t kMaxMessageBytes = 512;

std::string Truncate(std::string_view text) {
  if (text.size() <= kMaxMessageBytes) return std::string(text);
  return std::string(text.substr(0, kMaxMessageBytes)) + "...";
}

std::string StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string ApiError::Describe() const {
  std::string text;
  if (http_status != 0) text = "HTTP " + std::to_string(http_status);
  if (!reason.empty()) text += (text.empty() ? "" : " ") + reason;
  if (!message.empty()) text += (text.empty() ? "" : ": ") + message;
  if (cancelled) text += text.empty() ? "cancelled" : " (cancelled)";
  return text.empty() ? "unknown error" : text;
}

ApiError ErrorFromStatus(const nlohmann::json& status) {
  ApiError error;
  if (!status.is_object()) {
    error.message = "malformed Status object";
    return error;
  }
  auto code = status.find("code");
  if (code != status.end() && code->is_number_integer()) error.http_status = code->get<int>();
  error.reason = StringField(status, "reason");
  error.message = Truncate(StringField(status, "message"));
  auto details = status.find("details");
  if (details != status.end() && details->is_object()) {
    auto retry = details->find("retryAfterSeconds");
    if (retry != details->end() && retry->is_number_integer() && retry->get<int64_t>() > 0) {
      error.retry_after = std::chrono::seconds(retry->get<int64_t>());
    }
  }
  return error;
}

ApiError ErrorFromResponse(int http_status, std::string_view body) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  ApiError error;
  if (!parsed.is_discarded() && parsed.is_object() && StringField(parsed, "kind") == "Status") {
    error = ErrorFromStatus(parsed);
  } else {
    error.message = Truncate(body);
  }
  // The HTTP status is the authority; a Status without code (or a proxy's page) defers to it.
  error.http_status = http_status;
  return error;
}

std::chrono::seconds ParseRetryAfter(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec != std::errc() || end != header.data() + header.size() || seconds < 0) return std::chrono::seconds(0);
  return std::chrono::seconds(seconds);
}

}  // namespace pier::kube
