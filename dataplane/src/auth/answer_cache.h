// The auth service's answers kept for auth-cache-key (ingress-nginx's auth cache): one table per
// dataplane process, shared by its threads, bounded in size. A key is the route's cache scope
// and the rendered auth-cache-key; an entry lives for the TTL auth-cache-duration gives its
// status. Entries are only looked up by exact key, and expired ones are dropped when met or
// when a shard is full.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "auth/external_auth.h"

namespace pier::dataplane::external_auth {

class AnswerCache final {
 public:
  using Clock = std::chrono::steady_clock;
  // Entries in all, at most; a full shard that has nothing expired keeps what it has (it looks
  // for expired entries at most once a second).
  static constexpr std::size_t kMaxEntries = 65536;

  static AnswerCache& Get();

  std::optional<Answer> Find(const std::string& key, Clock::time_point now);
  void Store(const std::string& key, const Answer& answer, Clock::time_point expires);
  std::size_t size();
  void Clear();  // tests

  AnswerCache();
  ~AnswerCache();
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

 private:
  struct Shard;
  Shard& ShardOf(const std::string& key);
  static constexpr std::size_t kShards = 16;
  Shard* shards_;
};

// Whether `answer` may be kept under `settings`' rules, and until when, as nginx's cache decides:
// never an answer carrying Set-Cookie or a Cache-Control that forbids it (no-cache, no-store,
// private, max-age=0), nor one without a status of the service's own; for the service's
// positive (s-)max-age, whatever its status; else for the time of the rule covering its status.
std::optional<AnswerCache::Clock::time_point> KeepUntil(const Settings& settings, const Answer& answer,
                                                        AnswerCache::Clock::time_point now);

// pier_external_auth_cache_total{result}: hit, miss.
void CountCache(bool hit);
void RegisterCacheMetrics();

}  // namespace pier::dataplane::external_auth
