#include "sources/dir_watcher.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pier::sources {
namespace {

// Everything that can change what the folder holds, including an atomic rename into place (how
// editors and Kubernetes ConfigMap volumes update files) and the folder itself going away.
constexpr uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

Result<std::unique_ptr<DirWatcher>> DirWatcher::Open(std::string dir) {
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return Fail(std::string("eventfd: ") + std::strerror(errno));
  const int inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0) {
    spdlog::warn("manifests: inotify unavailable ({}); relying on periodic rescans", std::strerror(errno));
  }
  std::unique_ptr<DirWatcher> watcher(new DirWatcher(std::move(dir), inotify_fd, wake_fd));
  watcher->EnsureWatching();
  return watcher;
}

DirWatcher::DirWatcher(std::string dir, int inotify_fd, int wake_fd)
    : dir_(std::move(dir)), inotify_fd_(inotify_fd), wake_fd_(wake_fd) {}

DirWatcher::~DirWatcher() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void DirWatcher::EnsureWatching() {
  if (inotify_fd_ < 0 || watch_ >= 0) return;
  watch_ = inotify_add_watch(inotify_fd_, dir_.c_str(), kWatchMask);
  if (watch_ < 0) spdlog::debug("manifests: cannot watch {}: {}", dir_, std::strerror(errno));
}

void DirWatcher::Wake() noexcept {
  const uint64_t one = 1;
  // A full counter (it never is) would still leave the fd readable, which is all Wait needs.
  [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
}

DirWatcher::Event DirWatcher::Wait(std::chrono::milliseconds timeout, std::set<std::string>& names) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  const nfds_t count = inotify_fd_ >= 0 ? 2 : 1;
  const int ready = ::poll(fds, count, static_cast<int>(timeout.count()));
  if (ready <= 0) return Event::kTimeout;  // EINTR counts as a timeout: the caller rescans
  if (fds[0].revents & POLLIN) {
    uint64_t value = 0;
    [[maybe_unused]] auto read = ::read(wake_fd_, &value, sizeof value);
    return Event::kWoken;
  }
  ReadEvents(names);
  return Event::kChanged;
}

bool DirWatcher::Poll(std::set<std::string>& names) {
  if (inotify_fd_ < 0) return false;
  return ReadEvents(names);
}

bool DirWatcher::ReadEvents(std::set<std::string>& names) {
  alignas(inotify_event) char buffer[16 * 1024];
  bool any = false;
  for (;;) {
    const ssize_t length = ::read(inotify_fd_, buffer, sizeof buffer);
    if (length <= 0) return any;  // EAGAIN: drained
    any = true;
    for (ssize_t offset = 0; offset < length;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
      if (event->len > 0) {
        names.insert(event->name);
        if (event->mask & (IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE)) {
          writing_.erase(event->name);
        } else if (event->mask & (IN_CREATE | IN_MODIFY)) {
          writing_.insert(event->name);
        }
        if (event->mask & IN_DELETE) removed_ = true;
        if (event->mask & IN_MOVED_FROM) moved_out_.insert(event->cookie);
        if (event->mask & IN_MOVED_TO) moved_out_.erase(event->cookie);
      }
      if (event->wd == watch_ && (event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))) {
        // The folder is gone (or moved away): the watch is dead, EnsureWatching() re-adds it.
        if (!(event->mask & IN_IGNORED)) inotify_rm_watch(inotify_fd_, watch_);
        watch_ = -1;
      }
      if (event->mask & IN_Q_OVERFLOW) {
        spdlog::debug("manifests: inotify queue overflow; rescanning everything");
        writing_.clear();  // what was lost cannot be tracked: wait for quiet
        removed_ = true;
      }
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

}  // namespace pier::sources
