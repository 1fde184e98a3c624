#include "server/snapshot_versioner.h"

#include <random>

namespace pier::server {

SnapshotVersioner::SnapshotVersioner(std::string controller_instance, uint64_t last_version)
    : instance_(std::move(controller_instance)), version_(last_version) {}

SnapshotMessage SnapshotVersioner::Stamp(const pier::v1::Snapshot& snapshot) {
  std::string bytes;
  if (snapshot.version() == 0 && snapshot.controller_instance().empty()) {
    bytes = DeterministicBytes(snapshot);  // what translation builds: no copy needed
  } else {
    pier::v1::Snapshot content = snapshot;
    content.set_version(0);
    content.clear_controller_instance();
    bytes = DeterministicBytes(content);
  }
  if (last_content_ && *last_content_ == bytes) return nullptr;
  last_content_ = std::make_shared<const std::string>(std::move(bytes));
  return std::make_shared<const PublishedSnapshot>(++version_, instance_, last_content_);
}

std::string NewControllerInstance() {
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 15);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (char& c : id) c = kHex[digit(device)];
  return id;
}

}  // namespace pier::server
