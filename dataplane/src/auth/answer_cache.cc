#include "auth/answer_cache.h"

#include <prometheus/counter.h>

#include <array>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "pier/common/metrics.h"

namespace pier::dataplane::external_auth {

struct AnswerCache::Shard {
  struct Entry {
    Answer answer;
    Clock::time_point expires;
  };
  std::mutex mutex;
  std::unordered_map<std::string, Entry> entries;
  // A full shard looks for expired entries at most once a second: under a flood of new keys a
  // sweep per request would cost a walk of the shard each.
  Clock::time_point next_sweep{};
};

AnswerCache::AnswerCache() : shards_(new Shard[kShards]) {}
AnswerCache::~AnswerCache() { delete[] shards_; }

AnswerCache& AnswerCache::Get() {
  static AnswerCache* cache = new AnswerCache();  // never destroyed: threads may use it at exit
  return *cache;
}

AnswerCache::Shard& AnswerCache::ShardOf(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

std::optional<Answer> AnswerCache::Find(const std::string& key, Clock::time_point now) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return std::nullopt;
  if (it->second.expires <= now) {
    shard.entries.erase(it);
    return std::nullopt;
  }
  return it->second.answer;
}

void AnswerCache::Store(const std::string& key, const Answer& answer, Clock::time_point expires) {
  Shard& shard = ShardOf(key);
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= kMaxEntries / kShards && !shard.entries.contains(key)) {
    if (now < shard.next_sweep) return;
    shard.next_sweep = now + std::chrono::seconds(1);
    std::erase_if(shard.entries, [&](const auto& entry) { return entry.second.expires <= now; });
    if (shard.entries.size() >= kMaxEntries / kShards) return;
  }
  shard.entries.insert_or_assign(key, Shard::Entry{answer, expires});
}

std::size_t AnswerCache::size() {
  std::size_t total = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    total += shards_[i].entries.size();
  }
  return total;
}

void AnswerCache::Clear() {
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    shards_[i].entries.clear();
  }
}

std::optional<AnswerCache::Clock::time_point> KeepUntil(const Settings& settings, const Answer& answer,
                                                        AnswerCache::Clock::time_point now) {
  if (!settings.cache_key || answer.status == 0 || !answer.cookies.empty() || answer.uncacheable) return std::nullopt;
  // The service's own max-age comes first, whatever the status (nginx's order).
  if (answer.max_age) return now + *answer.max_age;
  const auto ttl = auth_cache::TtlFor(settings.cache_rules, answer.status);
  if (!ttl) return std::nullopt;
  return now + *ttl;
}

namespace {

const std::array<prometheus::Counter*, 2>& CacheCounters() {
  static const std::array<prometheus::Counter*, 2> counters = [] {
    auto& family = prometheus::BuildCounter()
                       .Name("pier_external_auth_cache_total")
                       .Help("Checks of routes with auth-cache-key, by whether a kept answer of the auth service "
                             "decided (hit) or the service was asked (miss).")
                       .Register(pier::metrics::Registry());
    return std::array<prometheus::Counter*, 2>{&family.Add({{"result", "miss"}}), &family.Add({{"result", "hit"}})};
  }();
  return counters;
}

}  // namespace

void CountCache(bool hit) { CacheCounters()[hit ? 1 : 0]->Increment(); }

void RegisterCacheMetrics() { CacheCounters(); }

}  // namespace pier::dataplane::external_auth
