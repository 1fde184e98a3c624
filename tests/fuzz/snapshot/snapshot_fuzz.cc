// Fuzzes what the dataplane does with a snapshot it receives: bytes -> SplitSnapshot ->
// Config::Build -> lookups, the path every pushed snapshot takes (config/config_client.cc). The
// pipeline fuzzer only ever feeds snapshots the controller made; this one feeds anything, since
// the dataplane trusts nothing it receives: whatever the bytes, Build accepts them or says why,
// and never crashes, leaks or reads out of bounds.
//
// The input is a snapshot in protobuf's JSON form (what pier-snapshot-dump prints, and what the
// seeds in corpus/snapshot are), or, when it is not JSON, the snapshot's wire bytes as they are.
// Each input is built twice: from nothing, and again on top of the first config, as the next
// snapshot builds on the config in use (parts whose bytes did not change are taken over); a
// second, slightly changed build (the first virtual host's routes reversed) exercises taking
// over some parts and compiling others.
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "routing/config.h"
#include "routing/snapshot_wire.h"

namespace {

using pier::dataplane::Config;

// What a request could ask of a config: every host and path the snapshot names, and some it
// does not.
void Lookups(const Config& config, const pier::v1::Snapshot& snapshot) {
  for (const auto& vhost : snapshot.virtual_hosts()) {
    (void)config.FindHost(vhost.host());
    for (const auto& route : vhost.routes()) {
      (void)config.Match(vhost.host(), route.match().path());
      (void)config.Match("x." + vhost.host(), route.match().path() + "/x");
    }
  }
  (void)config.Match("", "/");
  (void)config.Match("unknown.example", "/a/b");
}

std::shared_ptr<const Config> BuildFrom(const std::string& bytes, const Config* previous) {
  auto parts = pier::dataplane::SplitSnapshot(bytes);
  if (!parts) return nullptr;  // not a message: refused with a reason
  auto config = Config::Build(*parts, {}, previous);
  return config ? *config : nullptr;
}

}  // namespace

// Protobuf logs every string field with invalid UTF-8 it refuses; the refusal is what counts.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  pier::v1::Snapshot snapshot;
  std::string bytes;
  google::protobuf::util::JsonParseOptions json;
  json.ignore_unknown_fields = false;
  if (!input.empty() && input.front() == '{' &&
      google::protobuf::util::JsonStringToMessage(input, &snapshot, json).ok()) {
    bytes = snapshot.SerializeAsString();
  } else {
    bytes = input;
    if (!snapshot.ParseFromString(bytes)) snapshot.Clear();  // for the lookups only
  }

  auto first = BuildFrom(bytes, nullptr);
  if (!first) return 0;
  Lookups(*first, snapshot);

  // The same bytes again on top of the config in use: everything is taken over.
  if (auto again = BuildFrom(bytes, first.get())) Lookups(*again, snapshot);

  // One virtual host changed: it is compiled, the rest is taken over.
  if (snapshot.virtual_hosts_size() > 0) {
    auto* routes = snapshot.mutable_virtual_hosts(0)->mutable_routes();
    std::reverse(routes->begin(), routes->end());
    snapshot.set_version(snapshot.version() + 1);
    if (auto changed = BuildFrom(snapshot.SerializeAsString(), first.get())) Lookups(*changed, snapshot);
  }
  return 0;
}
