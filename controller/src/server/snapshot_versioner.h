// Turns each freshly built snapshot into a published one, or into nothing when its content is
// the same as the last published snapshot (a resync, or a change translation ignores). Versions
// start at 1 and grow by one per published snapshot; the controller instance id tells a
// restarted controller's versions apart.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "pier/v1/snapshot.pb.h"

namespace pier::server {

// What the gRPC streams send: one immutable message shared by every stream, never copied.
using SnapshotMessage = std::shared_ptr<const pier::v1::ControllerMessage>;

class SnapshotVersioner final {
 public:
  explicit SnapshotVersioner(std::string controller_instance, uint64_t last_version = 0);

  // The stamped message when `snapshot` differs from the last published one, else null.
  SnapshotMessage Stamp(pier::v1::Snapshot snapshot);

  uint64_t version() const noexcept { return version_; }
  const std::string& controller_instance() const noexcept { return instance_; }

 private:
  std::string instance_;
  uint64_t version_;
  // Serialized (deterministically) with version and instance cleared; empty until the first.
  std::optional<std::string> last_content_;
};

// 16 random hex digits: a new id for every controller process.
std::string NewControllerInstance();

}  // namespace pier::server
