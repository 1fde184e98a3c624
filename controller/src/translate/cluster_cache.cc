#include "translate/cluster_cache.h"

namespace pier::translate {

const pier::v1::Cluster* ClusterCache::Find(const std::string& name, const Key& key) {
  if (key.revision == 0) return nullptr;
  const auto it = entries_.find(name);
  if (it == entries_.end() || !(it->second.key == key)) return nullptr;
  used_.insert(name);
  return &it->second.cluster;
}

void ClusterCache::Store(const std::string& name, Key key, const pier::v1::Cluster& cluster) {
  if (key.revision == 0) return;
  Entry& entry = entries_[name];
  entry.key = std::move(key);
  entry.cluster = cluster;
  used_.insert(name);
}

void ClusterCache::EndBuild() {
  std::erase_if(entries_, [&](const auto& entry) { return !used_.contains(entry.first); });
  used_.clear();
}

}  // namespace pier::translate
