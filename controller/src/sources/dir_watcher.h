// Waits for "something in this folder changed" (inotify) or a timeout, and can be woken from
// another thread. Without inotify (limits reached, exotic filesystems) it still times out and
// wakes, so the caller's periodic rescan keeps working.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "pier/common/result.h"

namespace pier::sources {

class DirWatcher final {
 public:
  enum class Event { kChanged, kTimeout, kWoken };

  // Fails only when the wake-up channel cannot be created; a failed inotify watch is logged and
  // leaves the watcher in timeout-only mode (retried by EnsureWatching()).
  static Result<std::unique_ptr<DirWatcher>> Open(std::string dir);
  ~DirWatcher();
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Blocks until a change, a Wake() or the timeout. On kChanged, the names of the entries
  // that changed are added to `names`.
  Event Wait(std::chrono::milliseconds timeout, std::set<std::string>& names);
  // Thread-safe; the next (or current) Wait returns kWoken.
  void Wake() noexcept;
  // Re-adds the inotify watch if the folder was removed and recreated (the old watch dies with it).
  void EnsureWatching();
  bool watching() const noexcept { return watch_ >= 0; }
  // Whether some entry was created or modified and not yet closed, renamed or deleted since
  // (a writer is still at it). A rename into place, how editors and tools save atomically, leaves
  // nothing open, so the caller can read at once instead of waiting for quiet.
  bool Writing() const noexcept { return !writing_.empty(); }

 private:
  DirWatcher(std::string dir, int inotify_fd, int wake_fd);
  void ReadEvents(std::set<std::string>& names);

  std::string dir_;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;
  int watch_ = -1;
  std::set<std::string> writing_;
};

}  // namespace pier::sources
