// A snapshot as the gRPC streams send it: the ControllerMessage's wire bytes, made once when it is
// published and shared read-only by every stream. gRPC writes them as they are, so a 5 MB
// snapshot is serialised once per change however many dataplanes listen, and the controller
// keeps no parsed copy of what it sent.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <memory>
#include <string>

#include "pier/v1/snapshot.pb.h"

namespace pier::server {

// Deterministic serialisation: the same content always gives the same bytes, which plain
// SerializeToString does not promise (it may not, for instance, once maps appear).
std::string DeterministicBytes(const google::protobuf::MessageLite& message);

class PublishedSnapshot final {
 public:
  // content: DeterministicBytes of the Snapshot with version and controller_instance unset.
  PublishedSnapshot(uint64_t version, std::string controller_instance, std::shared_ptr<const std::string> content);

  // The same for a Snapshot that carries its version and instance (tests and tools).
  static std::shared_ptr<const PublishedSnapshot> Of(const pier::v1::Snapshot& snapshot);

  uint64_t version() const noexcept { return version_; }
  const std::string& controller_instance() const noexcept { return instance_; }
  const std::shared_ptr<const std::string>& content() const noexcept { return content_; }
  std::size_t wire_size() const noexcept { return header_.size() + content_->size(); }

  // The ControllerMessage's bytes, exactly what DeterministicBytes gives for it: version and
  // controller_instance are Snapshot fields 1 and 2, so they go between the header and the
  // content. Takes a copy of the small header only; the content is referenced.
  grpc::ByteBuffer Wire() const;

  // The message back, parsed from Wire() (tests and diagnostics; the streams never need it).
  pier::v1::ControllerMessage Parse() const;

 private:
  uint64_t version_;
  std::string instance_;
  std::string header_;  // ControllerMessage.snapshot's tag and length, Snapshot fields 1 and 2
  std::shared_ptr<const std::string> content_;
};

// What the event loop publishes and the streams send.
using SnapshotMessage = std::shared_ptr<const PublishedSnapshot>;

}  // namespace pier::server
