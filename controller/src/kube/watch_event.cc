#include "kube/watch_event.h"

namespace pier::kube {
namespace {

bool IsBlank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

std::string_view StripCarriageReturn(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

const char* WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded: return "ADDED";
    case WatchEventType::kModified: return "MODIFIED";
    case WatchEventType::kDeleted: return "DELETED";
    case WatchEventType::kBookmark: return "BOOKMARK";
    case WatchEventType::kError: return "ERROR";
  }
  return "ERROR";
}

Result<WatchEvent> ParseWatchEvent(std::string_view line) {
  auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return Fail("watch event is not a JSON object");
  auto type = parsed.find("type");
  if (type == parsed.end() || !type->is_string()) return Fail("watch event has no \"type\"");
  auto object = parsed.find("object");
  if (object == parsed.end() || !object->is_object()) {
    return Fail("watch event " + type->get<std::string>() + " has no \"object\"");
  }
  WatchEvent event;
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (name == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (name == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (name == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (name == "ERROR") {
    event.type = WatchEventType::kError;
    event.error = ErrorFromStatus(*object);
  } else {
    return Fail("unknown watch event type \"" + name + "\"");
  }
  event.object = std::move(*object);
  return event;
}

std::string ResourceVersionOf(const nlohmann::json& object) {
  if (!object.is_object()) return "";
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto rv = metadata->find("resourceVersion");
  return rv != metadata->end() && rv->is_string() ? rv->get<std::string>() : std::string();
}

Result<bool> LineSplitter::Feed(std::string_view bytes, const std::function<bool(std::string_view)>& on_line) {
  while (!bytes.empty()) {
    const size_t newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      if (pending_.size() + bytes.size() > max_line_bytes_) {
        return Fail("watch event larger than " + std::to_string(max_line_bytes_) + " bytes");
      }
      pending_.append(bytes);
      return true;
    }
    std::string_view line;
    if (pending_.empty()) {
      // The common case: a whole event inside this chunk, passed on without copying.
      line = bytes.substr(0, newline);
    } else {
      if (pending_.size() + newline > max_line_bytes_) {
        return Fail("watch event larger than " + std::to_string(max_line_bytes_) + " bytes");
      }
      pending_.append(bytes.substr(0, newline));
      line = pending_;
    }
    if (line.size() > max_line_bytes_) {
      return Fail("watch event larger than " + std::to_string(max_line_bytes_) + " bytes");
    }
    bytes.remove_prefix(newline + 1);
    line = StripCarriageReturn(line);
    const bool keep_going = IsBlank(line) || on_line(line);
    pending_.clear();
    if (!keep_going) return false;
  }
  return true;
}

}  // namespace pier::kube
