#include "limits/rate_limiter.h"

namespace pier::dataplane::limits {

RateLimiter::RateLimiter(Options options, prometheus::Gauge* buckets) : options_(options), gauge_(buckets) {}

RateLimiter::Result RateLimiter::Take(std::string_view route, const ClientKey& client, const BucketSpec& spec,
                                      TimePoint now) {
  const RouteClientView view{route, client};
  Shard& shard = shards_[ShardOf(HashOf(route, client))];
  std::lock_guard lock(shard.mutex);
  if (now >= shard.next_sweep) SweepLocked(shard, now);

  auto it = shard.buckets.find(view);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= options_.max_buckets_per_shard) {
      SweepLocked(shard, now);
      if (shard.buckets.size() >= options_.max_buckets_per_shard) return {Outcome::kTableFull, {}};
    }
    it = shard.buckets.emplace(RouteClientKey{std::string(route), client}, TokenBucket(spec, now)).first;
    Adjust(1);
  }
  const TakeResult taken = it->second.Take(spec, now);
  if (taken.allowed) return {Outcome::kAllowed, {}};
  return {Outcome::kLimited, taken.retry_after};
}

void RateLimiter::SweepAll(TimePoint now) {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    SweepLocked(shard, now);
  }
}

void RateLimiter::SweepLocked(Shard& shard, TimePoint now) {
  const std::size_t removed =
      std::erase_if(shard.buckets, [now](const auto& entry) { return entry.second.FullAt(now); });
  if (removed != 0) Adjust(-static_cast<long>(removed));
  shard.next_sweep = now + options_.sweep_interval;
}

void RateLimiter::Adjust(long delta) noexcept {
  size_.fetch_add(static_cast<std::size_t>(delta), std::memory_order_relaxed);
  if (gauge_ == nullptr) return;
  if (delta > 0) {
    gauge_->Increment(static_cast<double>(delta));
  } else {
    gauge_->Decrement(static_cast<double>(-delta));
  }
}

}  // namespace pier::dataplane::limits
