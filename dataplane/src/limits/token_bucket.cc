#include "limits/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pier::dataplane::limits {

namespace {
using Seconds = std::chrono::duration<double>;
}  // namespace

uint32_t RetryAfterSeconds(std::chrono::nanoseconds wait) noexcept {
  const double seconds = std::ceil(Seconds(wait).count());
  if (!(seconds >= 1)) return 1;
  if (seconds >= static_cast<double>(std::numeric_limits<uint32_t>::max())) return std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(seconds);
}

TokenBucket::TokenBucket(const BucketSpec& spec, TimePoint now) noexcept
    : spec_(spec), tokens_(spec.capacity), updated_(now) {}

void TokenBucket::Refill(TimePoint now) noexcept {
  // A clock that went backwards (it cannot, it is steady; a test clock might) refills nothing.
  if (now > updated_) {
    tokens_ += Seconds(now - updated_).count() * spec_.rate;
    updated_ = now;
  }
  tokens_ = std::min(tokens_, spec_.capacity);
}

TakeResult TokenBucket::Take(const BucketSpec& spec, TimePoint now) noexcept {
  // Tokens earned so far were earned at the old rate; the new spec applies from now on.
  Refill(now);
  spec_ = spec;
  tokens_ = std::min(tokens_, spec_.capacity);
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return {true, {}};
  }
  const double wait_s = (1 - tokens_) / spec_.rate;
  auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(Seconds(wait_s));
  return {false, std::max(wait, std::chrono::nanoseconds(1))};
}

bool TokenBucket::FullAt(TimePoint now) const noexcept {
  double tokens = tokens_;
  if (now > updated_) tokens += Seconds(now - updated_).count() * spec_.rate;
  return tokens >= spec_.capacity;
}

}  // namespace pier::dataplane::limits
