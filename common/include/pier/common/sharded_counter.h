// A counter family whose children many threads add to without sharing a cache line.
//
// prometheus-cpp's Counter is one atomic<double> updated with a compare-and-swap loop: when two
// worker threads add to the same series for every request, each add moves the cache line from
// the other core (measured with pier-metrics-cost: most of the cost of a request's metrics on
// 2 threads). Here each child keeps a slot per thread (threads beyond kSlots share slots; the
// adds stay exact), and a scrape sums them. Values are whole numbers (bytes, messages). A child
// costs kSlots cache lines (512 bytes) against prometheus-cpp's few dozen, so this is for the
// series every request or message touches, not for every counter.
//
// The family is exposed through pier::metrics::AddCollectable, after the registry's families.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/labels.h>
#include <prometheus/metric_family.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pier::metrics {

class ShardedCounterFamily final : public prometheus::Collectable {
 public:
  static constexpr std::size_t kSlots = 8;

  class Child {
   public:
    void Increment(uint64_t value = 1) noexcept {
      slots_[SlotOfThisThread()].value.fetch_add(value, std::memory_order_relaxed);
    }
    uint64_t Value() const noexcept;

   private:
    struct alignas(64) Slot {
      std::atomic<uint64_t> value{0};
    };
    std::array<Slot, kSlots> slots_{};
  };

  // Registers the family for scraping (pier::metrics::AddCollectable).
  static std::shared_ptr<ShardedCounterFamily> Register(std::string name, std::string help);

  ShardedCounterFamily(std::string name, std::string help);

  // The child for `labels`, made on first use; the same object for the same labels. Takes a
  // lock: call it when setting up, and keep the reference.
  Child& Add(const prometheus::Labels& labels);

  std::vector<prometheus::MetricFamily> Collect() const override;

  // The slot the calling thread adds to (each new thread takes the next one, round robin).
  static std::size_t SlotOfThisThread() noexcept {
    thread_local const std::size_t slot = next_slot_.fetch_add(1, std::memory_order_relaxed) % kSlots;
    return slot;
  }

 private:
  static inline std::atomic<std::size_t> next_slot_{0};

  const std::string name_;
  const std::string help_;
  mutable std::mutex mutex_;
  std::map<prometheus::Labels, std::unique_ptr<Child>> children_;
};

}  // namespace pier::metrics
