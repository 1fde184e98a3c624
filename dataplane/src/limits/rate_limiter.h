// limit-rps / limit-rpm: one token bucket per (route, client IP), shared by every worker
// thread. The table is sharded (a mutex per shard) so threads serving different clients rarely
// meet. Buckets that have refilled completely are removed (a new bucket starts full, so that
// loses nothing), which keeps the table to the clients seen within the last burst/rate
// seconds; a hard cap bounds it even under a flood of distinct addresses.
#pragma once

#include <prometheus/gauge.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string_view>

#include "limits/client_key.h"
#include "limits/clock.h"
#include "limits/route_client_map.h"
#include "limits/token_bucket.h"

namespace pier::dataplane::limits {

class RateLimiter final {
 public:
  struct Options {
    // Every shard drops its full buckets at most this often (and when it hits its cap).
    std::chrono::milliseconds sweep_interval{10000};
    // Buckets per shard (x kShardCount in all). A new client beyond it is refused, as nginx
    // does when its limit_req zone is full: failing open would hand a flood of addresses an
    // unlimited rate.
    std::size_t max_buckets_per_shard = 16384;
  };
  enum class Outcome { kAllowed, kLimited, kTableFull };
  struct Result {
    Outcome outcome = Outcome::kAllowed;
    std::chrono::nanoseconds retry_after{0};  // kLimited: until the next token
  };

  // `buckets`: optional gauge kept equal to size().
  explicit RateLimiter(Options options, prometheus::Gauge* buckets = nullptr);
  RateLimiter() : RateLimiter(Options{}) {}
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  Result Take(std::string_view route, const ClientKey& client, const BucketSpec& spec, TimePoint now);

  // Buckets in the table now.
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  // Drops every bucket that is full at `now`, in every shard.
  void SweepAll(TimePoint now);

 private:
  struct Shard {
    std::mutex mutex;
    RouteClientMap<TokenBucket> buckets;
    TimePoint next_sweep{};
  };
  void SweepLocked(Shard& shard, TimePoint now);
  void Adjust(long delta) noexcept;

  const Options options_;
  prometheus::Gauge* const gauge_;
  std::atomic<std::size_t> size_{0};
  std::array<Shard, kShardCount> shards_;
};

}  // namespace pier::dataplane::limits
