// --source=manifests: every *.yaml / *.yml in one folder (not recursive; hidden files such as a
// ConfigMap volume's "..data" are skipped), multi-document, Lists expanded. The folder is watched
// with inotify and rescanned periodically, and only the difference is sent to the sink.
//
// A file that cannot be read or parsed is logged with its name and line, and the objects it held
// before stay loaded: a half-saved or mistyped file never takes routes away. A deleted file does.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sources/dir_watcher.h"
#include "sources/source.h"

namespace pier::sources {

struct ManifestsOptions {
  std::string dir;
  // Safety net for changes inotify cannot see (network filesystems, inotify limits). A rescan
  // only stats the files; unchanged ones are not read again.
  std::chrono::milliseconds rescan_interval{500};
  // A file written in place is read once it is closed, or after this much quiet while it is
  // still open; a deletion waits for this much quiet too (at most 300 ms either way). An atomic
  // rename into place is read at once.
  std::chrono::milliseconds settle{50};
};

class ManifestsSource final : public Source {
 public:
  explicit ManifestsSource(ManifestsOptions options);
  ~ManifestsSource() override;

  // Loads the folder synchronously (so the first snapshot has everything), reports Synced(),
  // then keeps watching on a thread of its own.
  Result<bool> Start(EventSink& sink) override;
  void Stop() noexcept override;

 private:
  using ObjectId = std::pair<model::Kind, std::string>;

  struct FileSignature {
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileSignature&) const = default;
  };

  struct FileState {
    FileSignature signature;
    std::string content;
    std::map<ObjectId, nlohmann::json> objects;
  };

  void Run();
  // Brings the sink up to date with the folder. `changed_names` are re-read even when their
  // stat signature looks unchanged (coarse timestamps on some filesystems).
  void Scan(const std::set<std::string>& changed_names);
  // Re-reads one file into `state`; false when it could not be read or parsed (state untouched).
  // The ids of objects the file added, removed or changed go to `affected`.
  bool Load(const std::string& name, const FileSignature& signature, FileState& state,
            std::set<ObjectId>& affected);
  // Sends the sink what changed for the objects in `affected` (ids of files re-read or removed):
  // only those can differ from what was published, so an edit of one small file costs that
  // file, not every object in the folder. Falls back to PublishAll when that is cheaper.
  void Publish(const std::set<ObjectId>& affected);
  void PublishAll();
  // Sends one object's change (or deletion when `desired` is null) if it differs from what was
  // published last.
  void PublishOne(const ObjectId& id, const nlohmann::json* desired);

  ManifestsOptions options_;
  EventSink* sink_ = nullptr;
  std::unique_ptr<DirWatcher> watcher_;
  // Names whose events a scan read after listing the folder; the next round starts with them.
  std::set<std::string> late_events_;
  std::thread thread_;
  std::mutex stop_mutex_;
  bool stopping_ = false;

  // Owned by whichever thread scans: Start() before the thread exists, then the thread.
  std::map<std::string, FileState> files_;
  std::map<ObjectId, nlohmann::json> published_;
  bool listing_failed_ = false;
};

}  // namespace pier::sources
