#include "routing/snapshot_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wire_format_lite.h>

#include <climits>

namespace pier::dataplane {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::internal::WireFormatLite;

// snapshot.proto's field numbers.
constexpr int kControllerMessageSnapshot = 1;
constexpr int kSnapshotVirtualHosts = 4;
constexpr int kSnapshotClusters = 5;

struct Field {
  int number;
  WireFormatLite::WireType type;
  std::string_view value;  // the payload, for a length-delimited field
  std::string_view whole;  // tag included
};

// Calls visit(Field) for every top-level field; false when the bytes are not a message.
template <typename Visit>
bool ForEachField(std::string_view bytes, Visit&& visit) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) return false;
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  for (;;) {
    const int start = in.CurrentPosition();
    if (static_cast<std::size_t>(start) == bytes.size()) return true;
    const uint32_t tag = in.ReadTag();
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    if (tag == 0 || number == 0) return false;
    const WireFormatLite::WireType type = WireFormatLite::GetTagWireType(tag);
    std::string_view value;
    if (type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length) || length > static_cast<uint32_t>(INT_MAX)) return false;
      const auto at = static_cast<std::size_t>(in.CurrentPosition());
      if (length > bytes.size() - at) return false;
      value = bytes.substr(at, length);
      if (!in.Skip(static_cast<int>(length))) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
    const auto end = static_cast<std::size_t>(in.CurrentPosition());
    visit(Field{number, type, value, bytes.substr(static_cast<std::size_t>(start), end - start)});
  }
}

}  // namespace

Result<SnapshotParts> SplitSnapshot(std::string_view snapshot) {
  SnapshotParts parts;
  std::string rest;
  const bool ok = ForEachField(snapshot, [&](const Field& field) {
    if (field.type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED && field.number == kSnapshotVirtualHosts) {
      parts.virtual_hosts.push_back(field.value);
    } else if (field.type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED && field.number == kSnapshotClusters) {
      parts.clusters.push_back(field.value);
    } else {
      // Protobuf would keep a field 4 or 5 of another wire type as an unknown field: so does this.
      rest.append(field.whole);
    }
  });
  if (!ok || !parts.rest.ParseFromString(rest)) return Fail("the snapshot is not a valid pier.v1.Snapshot message");
  return parts;
}

Result<std::optional<std::string_view>> FindSnapshot(std::string_view controller_message, std::string& scratch) {
  std::optional<std::string_view> found;
  int occurrences = 0;
  scratch.clear();
  const bool ok = ForEachField(controller_message, [&](const Field& field) {
    if (field.number != kControllerMessageSnapshot || field.type != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) return;
    if (++occurrences == 1) {
      found = field.value;
      return;
    }
    if (occurrences == 2) scratch.assign(*found);
    scratch.append(field.value);
  });
  if (!ok) return Fail("not a valid pier.v1.ControllerMessage");
  if (occurrences > 1) found = std::string_view(scratch);
  return found;
}

std::optional<std::string> FindUnknownField(const google::protobuf::Message& message) {
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = reflection.GetUnknownFields(message);
  if (!unknown.empty()) {
    return "field " + std::to_string(unknown.field(0).number()) + " of " + message.GetDescriptor()->full_name();
  }
  // Set fields only: an embedded message that is absent holds nothing. The depth is that of the
  // schema, which protobuf's parser bounds anyway.
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int i = 0, n = reflection.FieldSize(message, field); i < n; ++i) {
        if (auto found = FindUnknownField(reflection.GetRepeatedMessage(message, field, i))) return found;
      }
    } else if (auto found = FindUnknownField(reflection.GetMessage(message, field))) {
      return found;
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> StringField(std::string_view message, int field_number) {
  std::string_view value;
  bool wrong_type = false;
  const bool ok = ForEachField(message, [&](const Field& field) {
    if (field.number != field_number) return;
    if (field.type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      value = field.value;
    } else {
      wrong_type = true;
    }
  });
  if (!ok || wrong_type) return std::nullopt;
  return value;
}

}  // namespace pier::dataplane
