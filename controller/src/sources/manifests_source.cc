#include "sources/manifests_source.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sources/manifest_file.h"
#include "sources/watch_metrics.h"

namespace pier::sources {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A manifest is text written by people; anything this large is a mistake and would be held in
// memory twice (text and objects).
constexpr int64_t kMaxFileBytes = 256 * 1024 * 1024;
// Editors that keep writing would otherwise postpone a scan forever.
constexpr std::chrono::milliseconds kMaxSettle{300};

bool IsManifestName(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  return name.ends_with(".yaml") || name.ends_with(".yml");
}

std::string Describe(const json& object) {
  std::string kind = object.contains("kind") && object["kind"].is_string() ? object["kind"].get<std::string>() : "?";
  std::string api = object.contains("apiVersion") && object["apiVersion"].is_string()
                        ? object["apiVersion"].get<std::string>()
                        : "?";
  return api + " " + kind;
}

}  // namespace

ManifestsSource::ManifestsSource(ManifestsOptions options) : options_(std::move(options)) {}

ManifestsSource::~ManifestsSource() { Stop(); }

Result<bool> ManifestsSource::Start(EventSink& sink) {
  std::error_code ec;
  if (!fs::is_directory(options_.dir, ec)) {
    return Fail("manifests folder \"" + options_.dir + "\" " + (ec ? ec.message() : std::string("is not a directory")));
  }
  auto watcher = DirWatcher::Open(options_.dir);
  if (!watcher) return Fail("manifests folder \"" + options_.dir + "\": " + watcher.error());
  watcher_ = std::move(*watcher);
  sink_ = &sink;
  // The watch exists before the first scan, so nothing written meanwhile is missed.
  Scan({});
  spdlog::info("manifests: loaded {} objects from {} files in {}{}", published_.size(), files_.size(), options_.dir,
               watcher_->watching() ? "" : " (inotify unavailable: periodic rescans only)");
  sink_->Synced();
  thread_ = std::thread([this] { Run(); });
  return true;
}

void ManifestsSource::Stop() noexcept {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (watcher_) watcher_->Wake();
  if (thread_.joinable()) thread_.join();
}

void ManifestsSource::Run() {
  auto stopping = [this] {
    std::lock_guard lock(stop_mutex_);
    return stopping_;
  };
  while (!stopping()) {
    std::set<std::string> changed;
    DirWatcher::Event event = DirWatcher::Event::kChanged;
    if (late_events_.empty()) {
      event = watcher_->Wait(options_.rescan_interval, changed);
    } else {
      changed.swap(late_events_);  // events the last scan read but left to this round
    }
    if (event == DirWatcher::Event::kWoken) continue;
    if (event == DirWatcher::Event::kChanged) {
      // Only half-done changes wait for quiet (a file still open for writing, a deletion that may
      // be the whole folder going); a rename into place or a closed write is read at once, and
      // the event loop's debounce coalesces a burst of them.
      const auto give_up = std::chrono::steady_clock::now() + kMaxSettle;
      while (watcher_->Unsettled() && std::chrono::steady_clock::now() < give_up) {
        event = watcher_->Wait(options_.settle, changed);
        if (event != DirWatcher::Event::kChanged) break;
      }
      if (event == DirWatcher::Event::kWoken) continue;
    }
    watcher_->Settled();
    watcher_->EnsureWatching();
    try {
      Scan(changed);
    } catch (const std::exception& e) {
      // Bad input must never end the watch: the next change or rescan tries again.
      spdlog::error("manifests: scanning {} failed: {}", options_.dir, e.what());
    }
  }
}

void ManifestsSource::Scan(const std::set<std::string>& changed_names) {
  std::error_code ec;
  fs::directory_iterator it(options_.dir, ec);
  std::map<std::string, FileSignature> present;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!IsManifestName(name)) continue;
    struct stat st {};
    // stat, not lstat: ConfigMap volumes present every file as a symlink into "..data".
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    present[name] = FileSignature{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                                  static_cast<int64_t>(st.st_size),
                                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  }
  if (ec) {
    // The folder vanished or became unreadable: that is not "every file was deleted".
    if (!listing_failed_) {
      spdlog::error("manifests: cannot list {}: {}; keeping the {} objects loaded", options_.dir, ec.message(),
                    published_.size());
    }
    listing_failed_ = true;
    return;
  }
  if (listing_failed_) spdlog::info("manifests: {} is readable again", options_.dir);
  listing_failed_ = false;
  // A file created or written since the events this scan answers may be half written. Its events
  // are queued by now (inotify queues them as the calls happen), so they are read here: such a
  // file is left to the next round, which waits for its close or for quiet like any other.
  std::set<std::string> late;
  if (watcher_ != nullptr && watcher_->Poll(late)) late_events_.insert(late.begin(), late.end());

  std::set<ObjectId> affected;
  for (auto file = files_.begin(); file != files_.end();) {
    if (present.contains(file->first)) {
      ++file;
    } else {
      spdlog::info("manifests: {} removed ({} objects)", file->first, file->second.objects.size());
      for (const auto& entry : file->second.objects) affected.insert(entry.first);
      file = files_.erase(file);
    }
  }
  for (const auto& [name, signature] : present) {
    if (late.contains(name) && watcher_->Writing(name)) continue;
    auto [file, added] = files_.try_emplace(name);
    if (added || file->second.signature != signature || changed_names.contains(name)) {
      Load(name, signature, file->second, affected);
    }
  }
  Publish(affected);
}

bool ManifestsSource::Load(const std::string& name, const FileSignature& signature, FileState& state,
                           std::set<ObjectId>& affected) {
  const std::string path = (fs::path(options_.dir) / name).string();
  // Remembering the signature of a failed file keeps it from being re-read and re-reported on
  // every rescan; its next change is read again.
  state.signature = signature;
  if (signature.size > kMaxFileBytes) {
    spdlog::error("manifests: {}: larger than {} bytes; keeping the {} objects it held before", path, kMaxFileBytes,
                  state.objects.size());
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in.is_open()) text << in.rdbuf();
  if (!in.is_open() || in.bad()) {
    spdlog::error("manifests: {}: cannot read ({}); keeping the {} objects it held before", path,
                  std::strerror(errno), state.objects.size());
    return false;
  }
  std::string content = std::move(text).str();
  if (content == state.content && !state.content.empty()) return true;
  state.content = std::move(content);

  auto parsed = ParseManifest(state.content);
  std::map<ObjectId, json> objects;
  std::string error;
  if (!parsed) {
    error = parsed.error();
  } else {
    for (auto& object : *parsed) {
      const auto kind = model::KindOf(object);
      if (!kind) {
        spdlog::debug("manifests: {}: ignoring {}", path, Describe(object));
        continue;
      }
      std::string key = ObjectKey(object, *kind == model::Kind::kIngressClass);
      if (key.empty()) {
        error = std::string("a ") + model::KindName(*kind) + " has no metadata.name";
        break;
      }
      ObjectId id{*kind, std::move(key)};
      if (objects.contains(id)) {
        spdlog::warn("manifests: {}: {} {} appears twice; the last one wins", path, model::KindName(*kind), id.second);
      }
      objects.insert_or_assign(std::move(id), std::move(object));
    }
  }
  if (!error.empty()) {
    spdlog::error("manifests: {}: {}; keeping the {} objects it held before", path, error, state.objects.size());
    return false;
  }
  // Only objects that were added, removed or edited can change what is published; a file of a
  // thousand objects with one edited costs one comparison per object here, and one publish.
  for (const auto& [id, object] : state.objects) {
    const auto now = objects.find(id);
    if (now == objects.end() || now->second != object) affected.insert(id);
  }
  for (const auto& entry : objects) {
    if (!state.objects.contains(entry.first)) affected.insert(entry.first);
  }
  state.objects = std::move(objects);
  return true;
}

void ManifestsSource::Publish(const std::set<ObjectId>& affected) {
  if (affected.empty()) return;
  // Looking one id up in every file costs |files| lookups; a full pass costs one per object.
  std::size_t total = 0;
  for (const auto& entry : files_) total += entry.second.objects.size();
  if (published_.empty() || affected.size() * files_.size() >= total) {
    PublishAll();
    return;
  }
  // The same (kind, key) order as PublishAll, deletions first, so the sink sees the same events.
  std::vector<std::pair<const ObjectId*, const json*>> changes;
  changes.reserve(affected.size());
  for (const ObjectId& id : affected) {
    const json* desired = nullptr;
    const std::string* owner = nullptr;
    for (const auto& [name, file] : files_) {  // by name: the last file that defines it wins
      const auto it = file.objects.find(id);
      if (it == file.objects.end()) continue;
      if (owner != nullptr) {
        spdlog::warn("manifests: {} {} is defined in both {} and {}; using {}", model::KindName(id.first), id.second,
                     *owner, name, name);
      }
      desired = &it->second;
      owner = &name;
    }
    changes.emplace_back(&id, desired);
  }
  for (const auto& [id, desired] : changes) {
    if (desired == nullptr) PublishOne(*id, nullptr);
  }
  for (const auto& [id, desired] : changes) {
    if (desired != nullptr) PublishOne(*id, desired);
  }
}

void ManifestsSource::PublishOne(const ObjectId& id, const json* desired) {
  auto& metrics = WatchMetrics::Get();
  auto it = published_.find(id);
  if (desired == nullptr) {
    if (it == published_.end()) return;
    metrics.CountEvent(id.first, WatchEventType::kDeleted);
    sink_->Delete(id.first, id.second);
    published_.erase(it);
    return;
  }
  if (it != published_.end() && it->second == *desired) return;
  metrics.CountEvent(id.first, it == published_.end() ? WatchEventType::kAdded : WatchEventType::kModified);
  sink_->Upsert(*desired);
  published_.insert_or_assign(id, *desired);
}

void ManifestsSource::PublishAll() {
  std::map<ObjectId, const json*> desired;
  std::map<ObjectId, const std::string*> owner;
  for (const auto& [name, file] : files_) {
    for (const auto& [id, object] : file.objects) {
      if (auto previous = owner.find(id); previous != owner.end() && *previous->second != name) {
        spdlog::warn("manifests: {} {} is defined in both {} and {}; using {}", model::KindName(id.first), id.second,
                     *previous->second, name, name);
      }
      desired[id] = &object;
      owner[id] = &name;
    }
  }
  auto& metrics = WatchMetrics::Get();
  for (auto it = published_.begin(); it != published_.end();) {
    if (desired.contains(it->first)) {
      ++it;
      continue;
    }
    metrics.CountEvent(it->first.first, WatchEventType::kDeleted);
    sink_->Delete(it->first.first, it->first.second);
    it = published_.erase(it);
  }
  for (const auto& [id, object] : desired) {
    auto it = published_.find(id);
    if (it != published_.end() && it->second == *object) continue;
    metrics.CountEvent(id.first, it == published_.end() ? WatchEventType::kAdded : WatchEventType::kModified);
    sink_->Upsert(*object);
    published_.insert_or_assign(id, *object);
  }
}

}  // namespace pier::sources
