#include "status/leader_elector.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <random>

#include "kube/resource.h"
#include "status/micro_time.h"

namespace pier::status {
namespace {

constexpr std::string_view kLeaseApiVersion = "coordination.k8s.io/v1";
constexpr std::string_view kLeasePlural = "leases";
// What a released Lease says: others treat it as free at once because the holder is empty.
constexpr int64_t kReleasedLeaseSeconds = 1;

std::string ResourceVersionOf(const nlohmann::json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  const auto version = metadata->find("resourceVersion");
  return version != metadata->end() && version->is_string() ? version->get<std::string>() : std::string();
}

}  // namespace

LeaderElector::LeaderElector(kube::KubeClient& client, LeaderElectionConfig config, const Clock& clock)
    : client_(client),
      config_(std::move(config)),
      clock_(clock),
      collection_path_(kube::CollectionPath(kLeaseApiVersion, kLeasePlural, true, config_.namespace_)),
      object_path_(kube::ObjectPath(kLeaseApiVersion, kLeasePlural, true, config_.namespace_, config_.name)) {}

const std::string& LeaderElector::observed_holder() const {
  static const std::string kNone;
  return observed_ ? observed_->holder_identity : kNone;
}

void LeaderElector::Observe(const LeaseRecord& record, const nlohmann::json& object) {
  // Expiry is measured from when WE saw the record change, never from the renewTime written by
  // another machine's clock.
  if (!observed_ || *observed_ != record) {
    observed_ = record;
    observed_time_ = clock_.Now();
  }
  observed_resource_version_ = ResourceVersionOf(object);
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenew() {
  const std::string now = FormatMicroTime(clock_.WallNow());
  LeaseRecord desired;
  desired.holder_identity = config_.identity;
  desired.lease_duration_seconds = config_.lease_duration.count();
  desired.acquire_time = now;
  desired.renew_time = now;

  auto current = client_.Get(object_path_);
  if (!current) {
    if (current.error().http_status != 404) {
      spdlog::warn("leader election: reading lease {}/{} failed: {}", config_.namespace_, config_.name,
                   current.error().Describe());
      return Attempt::kFailed;
    }
    auto created = client_.Create(collection_path_, LeaseToJson(config_.namespace_, config_.name, desired, ""));
    if (!created) {
      // 409 AlreadyExists: another replica created it first; the next round reads it.
      spdlog::info("leader election: creating lease {}/{} failed: {}", config_.namespace_, config_.name,
                   created.error().Describe());
      return created.error().http_status == 409 ? Attempt::kHeldByOther : Attempt::kFailed;
    }
    Observe(desired, *created);
    return Attempt::kHeld;
  }

  const LeaseRecord record = LeaseRecordFromJson(*current);
  Observe(record, *current);
  const bool ours = record.holder_identity == config_.identity;
  const bool valid = observed_time_ + std::chrono::seconds(record.lease_duration_seconds) > clock_.Now();
  if (!record.holder_identity.empty() && !ours && valid) return Attempt::kHeldByOther;

  if (ours) {
    desired.acquire_time = record.acquire_time;
    desired.lease_transitions = record.lease_transitions;
  } else {
    desired.lease_transitions = record.lease_transitions + 1;
  }
  auto updated = client_.Update(object_path_, LeaseToJson(config_.namespace_, config_.name, desired,
                                                          observed_resource_version_));
  if (!updated) {
    // 409 Conflict: someone wrote the Lease since we read it; the next round re-reads.
    spdlog::log(updated.error().http_status == 409 ? spdlog::level::info : spdlog::level::warn,
                "leader election: updating lease {}/{} failed: {}", config_.namespace_, config_.name,
                updated.error().Describe());
    return Attempt::kFailed;
  }
  Observe(desired, *updated);
  return Attempt::kHeld;
}

bool LeaderElector::Tick() {
  const Attempt attempt = TryAcquireOrRenew();
  const auto now = clock_.Now();
  switch (attempt) {
    case Attempt::kHeld:
      if (!leader_) {
        spdlog::info("leader election: {} acquired lease {}/{}", config_.identity, config_.namespace_, config_.name);
      }
      leader_ = true;
      last_renew_ = now;
      break;
    case Attempt::kHeldByOther:
      if (leader_) {
        spdlog::warn("leader election: lease {}/{} is now held by {}; stepping down", config_.namespace_,
                     config_.name, observed_holder());
      }
      leader_ = false;
      break;
    case Attempt::kFailed:
      if (leader_ && now - last_renew_ >= config_.renew_deadline) {
        spdlog::error("leader election: could not renew lease {}/{} for {} s; stepping down", config_.namespace_,
                      config_.name, config_.renew_deadline.count());
        leader_ = false;
      }
      break;
  }
  return leader_;
}

bool LeaderElector::Release() {
  if (!leader_ || !observed_) return false;
  leader_ = false;
  const std::string now = FormatMicroTime(clock_.WallNow());
  LeaseRecord released;
  released.lease_duration_seconds = kReleasedLeaseSeconds;
  released.acquire_time = now;
  released.renew_time = now;
  released.lease_transitions = observed_->lease_transitions;
  auto updated = client_.Update(object_path_, LeaseToJson(config_.namespace_, config_.name, released,
                                                          observed_resource_version_));
  if (!updated) {
    spdlog::warn("leader election: releasing lease {}/{} failed (it expires in {} s): {}", config_.namespace_,
                 config_.name, observed_->lease_duration_seconds, updated.error().Describe());
    return false;
  }
  Observe(released, *updated);
  spdlog::info("leader election: released lease {}/{}", config_.namespace_, config_.name);
  return true;
}

std::string NewHolderIdentity() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
    std::snprintf(host.data(), host.size(), "pier-controller");
  }
  std::random_device random;
  const uint64_t suffix = (static_cast<uint64_t>(random()) << 32) | random();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(suffix));
  return std::string(host.data()) + "_" + hex;
}

}  // namespace pier::status
