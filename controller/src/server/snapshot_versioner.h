// Turns each freshly built snapshot into a published one, or into nothing when its content is
// the same as the last published snapshot (a resync, or a change translation ignores). Versions
// start at 1 and grow by one per published snapshot; the controller instance id tells a
// restarted controller's versions apart.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pier/v1/snapshot.pb.h"
#include "server/published_snapshot.h"

namespace pier::server {

class SnapshotVersioner final {
 public:
  explicit SnapshotVersioner(std::string controller_instance, uint64_t last_version = 0);

  // The stamped snapshot when `snapshot` differs from the last published one, else null. The
  // snapshot's own version and controller_instance are ignored. Serialises `snapshot` once: the
  // bytes compared are the bytes sent.
  SnapshotMessage Stamp(const pier::v1::Snapshot& snapshot);

  uint64_t version() const noexcept { return version_; }
  const std::string& controller_instance() const noexcept { return instance_; }

 private:
  std::string instance_;
  uint64_t version_;
  // The last published content (shared with that message); null until the first.
  std::shared_ptr<const std::string> last_content_;
};

// 16 random hex digits: a new id for every controller process.
std::string NewControllerInstance();

}  // namespace pier::server
