#include "server/snapshot_versioner.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <random>

namespace pier::server {
namespace {

// Deterministic serialization: the same content always gives the same bytes, which plain
// SerializeToString does not promise (it may not, for instance, once maps appear).
std::string ContentBytes(const pier::v1::Snapshot& snapshot) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    snapshot.SerializeToCodedStream(&coded);
  }
  return bytes;
}

}  // namespace

SnapshotVersioner::SnapshotVersioner(std::string controller_instance, uint64_t last_version)
    : instance_(std::move(controller_instance)), version_(last_version) {}

SnapshotMessage SnapshotVersioner::Stamp(pier::v1::Snapshot snapshot) {
  snapshot.set_version(0);
  snapshot.clear_controller_instance();
  std::string content = ContentBytes(snapshot);
  if (last_content_ && *last_content_ == content) return nullptr;
  last_content_ = std::move(content);
  snapshot.set_version(++version_);
  snapshot.set_controller_instance(instance_);
  auto message = std::make_shared<pier::v1::ControllerMessage>();
  message->mutable_snapshot()->Swap(&snapshot);
  return message;
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
