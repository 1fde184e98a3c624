#include "server/janitor.h"

#include <sys/resource.h>
#include <unistd.h>

namespace pier::server {

Janitor::Janitor() : thread_([this] { Run(); }) {}

Janitor::~Janitor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Janitor::Dispose(std::shared_ptr<const void> object) {
  if (!object) return;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(object));
  }
  wake_.notify_one();
}

void Janitor::Run() {
  // Linux applies nice values per thread. Failing to lower it only costs the benefit.
  [[maybe_unused]] const int lowered = setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
  std::vector<std::shared_ptr<const void>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      batch.swap(queue_);
      if (batch.empty() && stopping_) return;
    }
    batch.clear();
  }
}

}  // namespace pier::server
