#include "translate/certificate_history.h"

namespace pier::translate {
namespace {

bool StillExists(const std::string& key, const CertificateMaterial& material, const model::ClusterState& state) {
  const auto secret = state.secrets.find(key);
  return secret != state.secrets.end() && secret->second.meta.uid == material.uid;
}

}  // namespace

const CertificateMaterial* CertificateHistory::LastGood(const std::string& key,
                                                        const model::ClusterState& state) const {
  const auto it = entries_.find(key);
  if (it == entries_.end() || !StillExists(key, it->second, state)) return nullptr;
  return &it->second;
}

void CertificateHistory::Update(const std::map<std::string, CertificateMaterial>& good,
                                const model::ClusterState& state) {
  for (const auto& [key, material] : good) entries_[key] = material;
  std::erase_if(entries_, [&](const auto& entry) { return !StillExists(entry.first, entry.second, state); });
}

}  // namespace pier::translate
