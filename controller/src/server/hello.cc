#include "server/hello.h"

namespace pier::server {

// The node id is echoed into logs and must stay a readable, bounded label.
constexpr std::size_t kMaxNodeIdBytes = 253;

Result<pier::v1::Hello> ExpectHello(const pier::v1::DataplaneMessage& first) {
  if (!first.has_hello()) {
    return Fail(first.has_ack() ? "the first message must be Hello, got Ack" : "the first message must be Hello");
  }
  if (first.hello().node_id().size() > kMaxNodeIdBytes) {
    return Fail("Hello.node_id is longer than " + std::to_string(kMaxNodeIdBytes) + " bytes");
  }
  return first.hello();
}

bool NeedsInitialSnapshot(const pier::v1::Hello& hello, uint64_t current_version, const std::string& current_instance) {
  if (hello.last_applied_version() == 0) return true;
  return hello.last_applied_version() != current_version || hello.last_applied_instance() != current_instance;
}

bool NeedsInitialSnapshot(const pier::v1::Hello& hello, const pier::v1::Snapshot& current) {
  return NeedsInitialSnapshot(hello, current.version(), current.controller_instance());
}

std::string NodeName(const pier::v1::Hello& hello) {
  return hello.node_id().empty() ? std::string("(unnamed)") : hello.node_id();
}

}  // namespace pier::server
