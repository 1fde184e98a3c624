#include "server/janitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace pier::server {
namespace {

using namespace std::chrono_literals;

// Records which thread ran its destructor.
struct Tracked {
  explicit Tracked(std::atomic<std::thread::id>* where) : freed_on(where) {}
  ~Tracked() { freed_on->store(std::this_thread::get_id()); }
  std::atomic<std::thread::id>* freed_on;
};

TEST(Janitor, FreesTheLastReferenceOnItsOwnThread) {
  std::atomic<std::thread::id> freed_on{};
  Janitor janitor;
  janitor.Dispose(std::make_shared<const Tracked>(&freed_on));
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (freed_on.load() == std::thread::id() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_NE(freed_on.load(), std::thread::id());
  EXPECT_NE(freed_on.load(), std::this_thread::get_id());
}

TEST(Janitor, AnObjectStillReferencedElsewhereSurvives) {
  std::atomic<std::thread::id> freed_on{};
  auto kept = std::make_shared<const Tracked>(&freed_on);
  {
    Janitor janitor;
    janitor.Dispose(kept);
  }  // joined: the janitor dropped its reference
  EXPECT_EQ(kept.use_count(), 1);
  EXPECT_EQ(freed_on.load(), std::thread::id());
}

TEST(Janitor, DestructionFreesWhatIsStillQueued) {
  std::atomic<std::thread::id> freed_on{};
  {
    Janitor janitor;
    for (int i = 0; i < 100; ++i) janitor.Dispose(std::make_shared<const Tracked>(&freed_on));
  }
  EXPECT_NE(freed_on.load(), std::thread::id());
}

}  // namespace
}  // namespace pier::server
