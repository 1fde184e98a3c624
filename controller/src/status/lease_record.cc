#include "status/lease_record.h"

namespace pier::status {
namespace {

std::string StringField(const nlohmann::json& spec, const char* key) {
  const auto it = spec.find(key);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t IntegerField(const nlohmann::json& spec, const char* key) {
  const auto it = spec.find(key);
  return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

LeaseRecord LeaseRecordFromJson(const nlohmann::json& lease) {
  LeaseRecord record;
  if (!lease.is_object()) return record;
  const auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return record;
  record.holder_identity = StringField(*spec, "holderIdentity");
  record.lease_duration_seconds = IntegerField(*spec, "leaseDurationSeconds");
  record.acquire_time = StringField(*spec, "acquireTime");
  record.renew_time = StringField(*spec, "renewTime");
  record.lease_transitions = IntegerField(*spec, "leaseTransitions");
  return record;
}

nlohmann::json LeaseToJson(const std::string& namespace_, const std::string& name, const LeaseRecord& record,
                           const std::string& resource_version) {
  nlohmann::json metadata = {{"name", name}, {"namespace", namespace_}};
  if (!resource_version.empty()) metadata["resourceVersion"] = resource_version;
  nlohmann::json spec = {{"holderIdentity", record.holder_identity},
                         {"leaseDurationSeconds", record.lease_duration_seconds},
                         {"leaseTransitions", record.lease_transitions}};
  if (!record.acquire_time.empty()) spec["acquireTime"] = record.acquire_time;
  if (!record.renew_time.empty()) spec["renewTime"] = record.renew_time;
  return {{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"}, {"metadata", metadata}, {"spec", spec}};
}

}  // namespace pier::status
