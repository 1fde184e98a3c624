// The clusters of the previous build, kept so the next build copies a Service's cluster instead
// of building it again from the Service and every EndpointSlice (address parsing, sorting)
// when none of that changed. An entry is used only while the Service's backend revision
// (model::ClusterState::backend_revisions) is the one it was built at, and for the same port
// name and backend TLS; entries no build used since the last EndBuild are dropped.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "pier/v1/snapshot.pb.h"

namespace pier::translate {

class ClusterCache final {
 public:
  struct Key {
    uint64_t revision = 0;  // 0: unknown, never served from the cache
    std::string port_name;
    std::string tls;  // the BackendTls, serialised
    bool operator==(const Key&) const = default;
  };

  // The cluster built under `name` with exactly `key`, or null.
  const pier::v1::Cluster* Find(const std::string& name, const Key& key);
  void Store(const std::string& name, Key key, const pier::v1::Cluster& cluster);
  // Forgets what this build did not use (removed Services, changed ports).
  void EndBuild();

  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    Key key;
    pier::v1::Cluster cluster;
  };
  std::map<std::string, Entry> entries_;
  std::set<std::string> used_;
};

}  // namespace pier::translate
