// A Snapshot's wire bytes cut into the parts Config::Build reads one at a time: each cluster and
// virtual host stays as the bytes received until Build finds it is not the same as in the
// config in use, so an edit costs a scan and a comparison of the unchanged parts instead of
// parsing them and serialising them again. Protobuf's own rules hold: a repeated field's every
// occurrence is one element, a singular field's last value wins, embedded messages merge.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane {

struct SnapshotParts {
  pier::v1::Snapshot rest;  // every field but virtual_hosts and clusters, parsed
  std::vector<std::string_view> virtual_hosts;  // each VirtualHost's bytes, in order
  std::vector<std::string_view> clusters;       // each Cluster's bytes, in order
};

// The parts point into `snapshot`, which must outlive them. Fails on bytes that are not a
// protobuf message; the parts themselves are parsed (and may fail) only when Build needs them.
Result<SnapshotParts> SplitSnapshot(std::string_view snapshot);

// The Snapshot inside a ControllerMessage's bytes, or nullopt when the message holds another
// kind. Several occurrences of the field (legal, and merged) are joined in `scratch`.
Result<std::optional<std::string_view>> FindSnapshot(std::string_view controller_message, std::string& scratch);

// Where `message`, or a message inside it, holds a field this build's snapshot.proto does not
// define (protobuf keeps such fields as unknown fields): "field 25 of pier.v1.Route", or nullopt
// when it has none. A newer controller sends fields an older dataplane does not know, and
// ignoring one could mean serving without a policy it asks for (authentication, say), so the
// callers refuse what carries one instead.
std::optional<std::string> FindUnknownField(const google::protobuf::Message& message);

// The value of a string field of a message's bytes ("" when absent, as proto3 reads it), or
// nullopt when the bytes are not a message or the field is not length-delimited.
std::optional<std::string_view> StringField(std::string_view message, int field);

}  // namespace pier::dataplane
