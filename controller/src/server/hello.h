// The first message of every dataplane stream. Kept apart from the gRPC reactor so the protocol
// rules can be tested without a server.
#pragma once

#include <cstdint>
#include <string>

#include "pier/common/result.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::server {

// The Hello, or why the stream must be rejected (the caller answers INVALID_ARGUMENT).
Result<pier::v1::Hello> ExpectHello(const pier::v1::DataplaneMessage& first);

// Whether a dataplane that said `hello` must be sent `current` right away. Only a dataplane that
// already applied exactly this version from exactly this controller process may skip it.
bool NeedsInitialSnapshot(const pier::v1::Hello& hello, uint64_t current_version, const std::string& current_instance);
bool NeedsInitialSnapshot(const pier::v1::Hello& hello, const pier::v1::Snapshot& current);

// "node-1" or "(unnamed)": for logs.
std::string NodeName(const pier::v1::Hello& hello);

}  // namespace pier::server
