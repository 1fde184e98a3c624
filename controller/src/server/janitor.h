// Frees large objects on a low-priority thread of its own. A snapshot of tens of thousands of
// hosts takes tens of milliseconds to free; doing that on the event loop while the new snapshot
// is being sent and applied would take a core from the dataplane on a small machine.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace pier::server {

class Janitor final {
 public:
  Janitor();
  // Frees whatever is still queued, then joins.
  ~Janitor();
  Janitor(const Janitor&) = delete;
  Janitor& operator=(const Janitor&) = delete;

  // Drops this reference on the janitor's thread (the object goes when its last one does).
  void Dispose(std::shared_ptr<const void> object);

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<const void>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pier::server
