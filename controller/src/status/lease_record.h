// The leader-election fields of a coordination.k8s.io/v1 Lease (client-go's
// LeaderElectionRecord) and their JSON form.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace pier::status {

struct LeaseRecord {
  std::string holder_identity;  // "" = released
  int64_t lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime, as written
  std::string renew_time;
  int64_t lease_transitions = 0;

  friend bool operator==(const LeaseRecord&, const LeaseRecord&) = default;
};

// Missing or mistyped fields read as empty/zero: a Lease edited by hand must not stop the
// election, it is simply judged expired and taken over.
LeaseRecord LeaseRecordFromJson(const nlohmann::json& lease);

// A whole Lease object for create (empty resource_version) or update (optimistic concurrency).
nlohmann::json LeaseToJson(const std::string& namespace_, const std::string& name, const LeaseRecord& record,
                           const std::string& resource_version);

}  // namespace pier::status
