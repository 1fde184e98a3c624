// The watch stream: newline-delimited JSON events, {"type": ..., "object": ...}, arriving in
// network chunks that split events anywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "kube/api_error.h"
#include "pier/common/result.h"

namespace pier::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

// "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR": the wire names, also metric labels.
const char* WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object;  // the object; for kError the Status
  ApiError error;         // kError only: code (410 = re-list), reason, message
};

Result<WatchEvent> ParseWatchEvent(std::string_view line);

// The metadata.resourceVersion of an object ("" if absent).
std::string ResourceVersionOf(const nlohmann::json& object);

// Splits a byte stream into lines. Bytes of an unfinished line are kept until its newline
// arrives; a line longer than the limit is an error (the stream is then unusable).
class LineSplitter final {
 public:
  // A Secret or an Ingress is limited to ~1.5 MiB by etcd; the default leaves ample room for
  // servers configured with larger objects while bounding memory on a broken stream.
  static constexpr size_t kDefaultMaxLineBytes = 64 * 1024 * 1024;

  explicit LineSplitter(size_t max_line_bytes = kDefaultMaxLineBytes) : max_line_bytes_(max_line_bytes) {}

  // Calls on_line for every complete, non-blank line in the bytes so far (without "\n" or
  // "\r\n"). on_line returns false to stop early; Feed then returns false too (remaining bytes
  // are dropped). An over-long line is an error.
  Result<bool> Feed(std::string_view bytes, const std::function<bool(std::string_view line)>& on_line);

  // Bytes of the unfinished line (non-empty at end of stream = a truncated event).
  std::string_view Pending() const { return pending_; }

 private:
  const size_t max_line_bytes_;
  std::string pending_;
};

}  // namespace pier::kube
