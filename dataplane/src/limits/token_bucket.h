// One token bucket, the way nginx's limit_req with `burst=... nodelay` and ingress-nginx's
// limit-rps behave: the bucket holds at most `capacity` tokens (limit-rps x
// limit-burst-multiplier), refills continuously at `rate` tokens per second, and every request
// takes one token or is refused. A client that was quiet may send `capacity` requests at once,
// then `rate` per second.
#pragma once

#include <chrono>
#include <cstdint>

#include "limits/clock.h"

namespace pier::dataplane::limits {

struct BucketSpec {
  double rate = 0;      // tokens per second, > 0
  double capacity = 1;  // >= 1

  friend bool operator==(const BucketSpec&, const BucketSpec&) = default;
};

struct TakeResult {
  bool allowed = false;
  // When refused: how long until a token is there (never zero).
  std::chrono::nanoseconds retry_after{0};
};

// Whole seconds for a Retry-After header: rounded up, so a client that waits that long finds
// a token, and at least 1.
uint32_t RetryAfterSeconds(std::chrono::nanoseconds wait) noexcept;

class TokenBucket final {
 public:
  // A new bucket is full: a client nobody has seen is as good as one that was quiet.
  TokenBucket(const BucketSpec& spec, TimePoint now) noexcept;

  // Refills up to `now` with `spec` (the route's current limits; a snapshot may change them,
  // and a smaller capacity cuts the tokens down to it), then takes one token if there is one.
  TakeResult Take(const BucketSpec& spec, TimePoint now) noexcept;

  // True when the bucket would be full at `now`: dropping it then loses nothing, as a new one
  // starts full.
  bool FullAt(TimePoint now) const noexcept;

  double tokens() const noexcept { return tokens_; }

 private:
  void Refill(TimePoint now) noexcept;

  BucketSpec spec_;
  double tokens_;
  TimePoint updated_;
};

}  // namespace pier::dataplane::limits
