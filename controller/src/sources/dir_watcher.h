// Waits for "something in this folder changed" (inotify) or a timeout, and can be woken from
// another thread. Without inotify (limits reached, exotic filesystems) it still times out and
// wakes, so the caller's periodic rescan keeps working.
#pragma once

#include <chrono>
#include <cstdint>
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
  // The events queued so far, without waiting: their names are added to `names`. False when
  // there were none.
  bool Poll(std::set<std::string>& names);
  // Whether `name` was created or modified and not yet closed, as far as the events read tell.
  bool Writing(const std::string& name) const { return writing_.contains(name); }
  // Thread-safe; the next (or current) Wait returns kWoken.
  void Wake() noexcept;
  // Re-adds the inotify watch if the folder was removed and recreated (the old watch dies with it).
  void EnsureWatching();
  bool watching() const noexcept { return watch_ >= 0; }
  // Whether the changes seen may still be half done: an entry created or modified and not yet
  // closed (a writer is still at it), or one deleted or moved out since the last Settled() (the
  // folder may be on its way out, or an editor replacing a file). A rename within the folder,
  // how editors and tools save atomically, is complete, so the caller can read at once.
  bool Unsettled() const noexcept { return !writing_.empty() || removed_ || !moved_out_.empty(); }
  // The caller is about to read the folder: deletions seen so far are accounted for.
  void Settled() noexcept {
    removed_ = false;
    moved_out_.clear();
  }

 private:
  DirWatcher(std::string dir, int inotify_fd, int wake_fd);
  bool ReadEvents(std::set<std::string>& names);  // false: nothing was queued

  std::string dir_;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;
  int watch_ = -1;
  std::set<std::string> writing_;
  bool removed_ = false;
  std::set<uint32_t> moved_out_;  // rename cookies whose IN_MOVED_TO has not been seen
};

}  // namespace pier::sources
