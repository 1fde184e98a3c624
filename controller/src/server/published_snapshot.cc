#include "server/published_snapshot.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <grpcpp/support/slice.h>

#include <utility>

namespace pier::server {
namespace {

using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;
using google::protobuf::internal::WireFormatLite;

// Field numbers of pier.v1 (snapshot.proto); the layout below depends on version and instance
// being the lowest two of Snapshot, which proto/pier/v1/snapshot.proto fixes for good.
constexpr int kControllerMessageSnapshot = 1;
constexpr int kSnapshotVersion = 1;
constexpr int kSnapshotControllerInstance = 2;

// Snapshot fields 1 and 2 as a deterministic serialisation writes them (proto3: a default
// value is not written).
std::string StampBytes(uint64_t version, const std::string& instance) {
  std::string bytes;
  {
    StringOutputStream stream(&bytes);
    CodedOutputStream coded(&stream);
    if (version != 0) {
      WireFormatLite::WriteUInt64(kSnapshotVersion, version, &coded);
    }
    if (!instance.empty()) {
      WireFormatLite::WriteString(kSnapshotControllerInstance, instance, &coded);
    }
  }
  return bytes;
}

std::string Header(const std::string& stamp, std::size_t content_size) {
  std::string bytes;
  {
    StringOutputStream stream(&bytes);
    CodedOutputStream coded(&stream);
    WireFormatLite::WriteTag(kControllerMessageSnapshot, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, &coded);
    coded.WriteVarint64(stamp.size() + content_size);
    coded.WriteRaw(stamp.data(), static_cast<int>(stamp.size()));
  }
  return bytes;
}

// Keeps the shared content alive for as long as gRPC holds the slice that points into it.
void ReleaseContent(void* holder) { delete static_cast<std::shared_ptr<const std::string>*>(holder); }

}  // namespace

std::string DeterministicBytes(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    StringOutputStream stream(&bytes);
    CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

PublishedSnapshot::PublishedSnapshot(uint64_t version, std::string controller_instance,
                                     std::shared_ptr<const std::string> content)
    : version_(version),
      instance_(std::move(controller_instance)),
      header_(Header(StampBytes(version_, instance_), content->size())),
      content_(std::move(content)) {}

std::shared_ptr<const PublishedSnapshot> PublishedSnapshot::Of(const pier::v1::Snapshot& snapshot) {
  pier::v1::Snapshot content = snapshot;
  content.set_version(0);
  content.clear_controller_instance();
  return std::make_shared<const PublishedSnapshot>(snapshot.version(), snapshot.controller_instance(),
                                                   std::make_shared<const std::string>(DeterministicBytes(content)));
}

grpc::ByteBuffer PublishedSnapshot::Wire() const {
  auto* holder = new std::shared_ptr<const std::string>(content_);
  // gRPC never writes through a slice it was given to send; the cast only fits its C signature.
  grpc::Slice slices[2] = {
      grpc::Slice(header_),
      grpc::Slice(const_cast<char*>(content_->data()), content_->size(), &ReleaseContent, holder),
  };
  return grpc::ByteBuffer(slices, 2);
}

pier::v1::ControllerMessage PublishedSnapshot::Parse() const {
  pier::v1::ControllerMessage message;
  message.ParseFromString(header_ + *content_);
  return message;
}

}  // namespace pier::server
