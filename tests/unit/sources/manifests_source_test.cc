#include "sources/manifests_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "recording_sink.h"

namespace pier::sources {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Event = RecordingSink::Event;

std::string Service(const std::string& name, int port = 80) {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: web\nspec:\n  ports:\n  - port: " +
         std::to_string(port) + "\n";
}

auto IsUpsert(const std::string& key) {
  return [key](const Event& e) { return e.type == "upsert" && e.key == key; };
}
auto IsDelete(const std::string& key) {
  return [key](const Event& e) { return e.type == "delete" && e.key == key; };
}

class ManifestsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/pier-manifests-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (source_) source_->Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Write then rename, as editors and kubectl cp do.
  void Write(const std::string& name, const std::string& text) {
    const fs::path tmp = fs::path(dir_) / ("." + name + ".tmp");
    std::ofstream(tmp) << text;
    fs::rename(tmp, fs::path(dir_) / name);
  }

  void WriteInPlace(const std::string& name, const std::string& text) {
    std::ofstream(fs::path(dir_) / name, std::ios::trunc) << text;
  }

  void StartSource(std::chrono::milliseconds rescan = 500ms) {
    source_ = std::make_unique<ManifestsSource>(ManifestsOptions{.dir = dir_, .rescan_interval = rescan});
    auto started = source_->Start(sink_);
    ASSERT_TRUE(started) << started.error();
  }

  std::string dir_;
  RecordingSink sink_;
  std::unique_ptr<ManifestsSource> source_;
};

TEST_F(ManifestsSourceTest, InitialLoadThenSynced) {
  Write("a.yaml", Service("one") + "---\n" + Service("two"));
  Write("b.yml",
        "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: pier\n"
        "spec:\n  controller: pier.dev/ingress-controller\n");
  Write("ignored.txt", Service("three"));
  Write("other.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n");
  StartSource();
  auto events = sink_.Take();
  ASSERT_EQ(events.size(), 4u);
  // Objects arrive sorted by (kind, key), then the sync mark.
  EXPECT_EQ(events[0].type, "upsert");
  EXPECT_EQ(events[0].kind, "IngressClass");
  EXPECT_EQ(events[1].key, "web/one");
  EXPECT_EQ(events[2].key, "web/two");
  EXPECT_EQ(events[3].type, "synced");
}

TEST_F(ManifestsSourceTest, EmptyFolderStillSyncs) {
  StartSource();
  auto events = sink_.Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "synced");
}

TEST_F(ManifestsSourceTest, MissingFolderIsAnError) {
  ManifestsSource source(ManifestsOptions{.dir = dir_ + "/nope"});
  auto started = source.Start(sink_);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().find(dir_ + "/nope"), std::string::npos) << started.error();
}

TEST_F(ManifestsSourceTest, EditIsDeliveredWithinASecond) {
  Write("a.yaml", Service("one", 80));
  StartSource(/*rescan=*/10s);  // inotify alone must be fast enough
  sink_.Take();
  const auto start = std::chrono::steady_clock::now();
  WriteInPlace("a.yaml", Service("one", 81));
  std::vector<Event> events;
  ASSERT_TRUE(sink_.WaitFor(IsUpsert("web/one"), 1s, &events));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(events.back().object["spec"]["ports"][0]["port"], 81);
}

TEST_F(ManifestsSourceTest, UnchangedRewriteSendsNothing) {
  Write("a.yaml", Service("one"));
  StartSource(100ms);
  sink_.Take();
  WriteInPlace("a.yaml", Service("one"));
  Write("b.yaml", "# nothing here\n");
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(sink_.Take().empty());
}

TEST_F(ManifestsSourceTest, ObjectRemovedFromFileIsDeleted) {
  Write("a.yaml", Service("one") + "---\n" + Service("two"));
  StartSource();
  sink_.Take();
  Write("a.yaml", Service("one"));
  ASSERT_TRUE(sink_.WaitFor(IsDelete("web/two"), 2s));
  auto events = sink_.Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "Service");
}

TEST_F(ManifestsSourceTest, DeletedFileDeletesItsObjects) {
  Write("a.yaml", Service("one"));
  Write("b.yaml", Service("two"));
  StartSource();
  sink_.Take();
  fs::remove(fs::path(dir_) / "b.yaml");
  ASSERT_TRUE(sink_.WaitFor(IsDelete("web/two"), 2s));
  for (const auto& event : sink_.Take()) EXPECT_NE(event.key, "web/one");
}

TEST_F(ManifestsSourceTest, BadYamlKeepsThePreviousObjects) {
  Write("a.yaml", Service("one") + "---\n" + Service("two"));
  Write("b.yaml", Service("three"));
  StartSource(100ms);
  sink_.Take();
  Write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: [broken\n");
  Write("b.yaml", Service("three", 8080));
  // b.yaml's change arrives; a.yaml's objects are not deleted.
  ASSERT_TRUE(sink_.WaitFor(IsUpsert("web/three"), 2s));
  std::this_thread::sleep_for(300ms);
  for (const auto& event : sink_.Take()) EXPECT_NE(event.type, "delete") << event.key;
  // Fixing the file applies its new content, and only now is "two" gone.
  // One publish sends its deletes before its upserts, so waiting for the upsert sees both.
  Write("a.yaml", Service("one", 9090));
  std::vector<Event> events;
  ASSERT_TRUE(sink_.WaitFor(IsUpsert("web/one"), 2s, &events));
  bool deleted_two = false;
  for (const auto& event : events) deleted_two |= event.key == "web/two" && event.type == "delete";
  EXPECT_TRUE(deleted_two);
}

TEST_F(ManifestsSourceTest, ObjectWithoutNameMakesTheFileBad) {
  Write("a.yaml", Service("one"));
  StartSource(100ms);
  sink_.Take();
  Write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  namespace: web\n");
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(sink_.Take().empty());
}

TEST_F(ManifestsSourceTest, ListKindIsExpanded) {
  Write("list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n"
        "    name: tls\n    namespace: web\n  type: kubernetes.io/tls\n");
  StartSource();
  auto events = sink_.Take();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "Secret");
  EXPECT_EQ(events[0].key, "web/tls");
}

TEST_F(ManifestsSourceTest, SameObjectInTwoFilesLastFileWins) {
  Write("a.yaml", Service("one", 80));
  Write("b.yaml", Service("one", 81));
  StartSource();
  auto events = sink_.Take();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].object["spec"]["ports"][0]["port"], 81);
  // Removing the winner falls back to the other definition rather than deleting the object.
  fs::remove(fs::path(dir_) / "b.yaml");
  std::vector<Event> after;
  ASSERT_TRUE(sink_.WaitFor(IsUpsert("web/one"), 2s, &after));
  EXPECT_EQ(after.back().object["spec"]["ports"][0]["port"], 80);
}

// Random edits of files whose objects overlap. Whichever way a publish goes (only the changed
// objects, or a full pass), replaying the sink's events must give exactly the folder's objects
// (the last file by name wins), and each step must send one event per object whose published
// value changed, nothing for the others.
TEST_F(ManifestsSourceTest, RandomEditsPublishExactlyTheFolderAndOnlyTheChanges) {
  std::mt19937 random(20260);
  constexpr int kFiles = 6;
  constexpr int kPool = 300;
  using Objects = std::map<std::string, int>;  // Service name -> port
  std::map<std::string, Objects> files;
  auto render = [](const Objects& objects) {
    std::string text = "# generated\n";
    for (const auto& [name, port] : objects) text += "---\n" + Service(name, port);
    return text;
  };
  auto random_objects = [&](int count) {
    Objects objects;
    for (int i = 0; i < count; ++i) objects["svc-" + std::to_string(random() % kPool)] = 80 + static_cast<int>(random() % 3);
    return objects;
  };
  auto expected = [&] {
    std::map<std::string, int> out;
    for (const auto& [file, objects] : files) {
      for (const auto& [name, port] : objects) out["web/" + name] = port;
    }
    return out;
  };
  for (int f = 0; f < kFiles; ++f) {
    const std::string name = "f" + std::to_string(f) + ".yaml";
    files[name] = random_objects(120);
    Write(name, render(files[name]));
  }
  StartSource(/*rescan=*/10s);

  std::map<std::string, int> published;
  std::size_t events_seen = 0;
  auto replay = [&] {
    for (const auto& event : sink_.Take()) {
      if (event.type == "synced") continue;
      ++events_seen;
      if (event.type == "delete") {
        EXPECT_EQ(published.erase(event.key), 1u) << "deleted what was not published: " << event.key;
      } else {
        ASSERT_EQ(event.type, "upsert");
        const int port = event.object["spec"]["ports"][0]["port"];
        auto it = published.find(event.key);
        EXPECT_TRUE(it == published.end() || it->second != port) << "re-sent an unchanged " << event.key;
        published[event.key] = port;
      }
    }
  };
  replay();
  ASSERT_EQ(published, expected());

  for (int step = 0; step < 30; ++step) {
    const auto before = expected();
    auto file = files.begin();
    std::advance(file, random() % files.size());
    switch (random() % 5) {
      case 0:
      case 1: {  // one object edited: the benchmark's case
        auto object = file->second.begin();
        std::advance(object, random() % file->second.size());
        object->second = object->second == 80 ? 81 : 80;
        Write(file->first, render(file->second));
        break;
      }
      case 2: {  // a few objects added and removed
        for (int i = 0; i < 3 && !file->second.empty(); ++i) file->second.erase(file->second.begin());
        for (auto& [name, port] : random_objects(3)) file->second[name] = port;
        Write(file->first, render(file->second));
        break;
      }
      case 3: {  // the whole file rewritten
        file->second = random_objects(120);
        Write(file->first, render(file->second));
        break;
      }
      default: {  // a file removed, or a new one
        if (files.size() > 2 && random() % 2 == 0) {
          fs::remove(fs::path(dir_) / file->first);
          files.erase(file);
        } else {
          const std::string name = "g" + std::to_string(step) + ".yaml";
          files[name] = random_objects(40);
          Write(name, render(files[name]));
        }
      }
    }
    const auto after = expected();
    std::size_t changes = 0;
    for (const auto& [key, port] : after) changes += !before.contains(key) || before.at(key) != port;
    for (const auto& [key, port] : before) changes += !after.contains(key);
    events_seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (published != after && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
      replay();
    }
    ASSERT_EQ(published, after) << "step " << step;
    EXPECT_EQ(events_seen, changes) << "step " << step;
  }
}

// A rename into place is complete: it is read at once, not after the settle time. A file still
// open for writing waits for its close (or for quiet).
TEST_F(ManifestsSourceTest, RenameIsReadAtOnceAndAnOpenFileWhenClosed) {
  Write("a.yaml", Service("one", 80));
  source_ = std::make_unique<ManifestsSource>(ManifestsOptions{.dir = dir_, .rescan_interval = 10s, .settle = 2s});
  ASSERT_TRUE(source_->Start(sink_));
  sink_.Take();
  auto start = std::chrono::steady_clock::now();
  Write("a.yaml", Service("one", 81));
  ASSERT_TRUE(sink_.WaitFor(IsUpsert("web/one"), 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  sink_.Take();

  std::ofstream open(fs::path(dir_) / "b.yaml");
  open << Service("two", 80);
  open.flush();
  EXPECT_FALSE(sink_.WaitFor(IsUpsert("web/two"), 150ms)) << "read while still open for writing";
  start = std::chrono::steady_clock::now();
  open.close();
  ASSERT_TRUE(sink_.WaitFor(IsUpsert("web/two"), 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

// Kubernetes ConfigMap volumes: name.yaml -> ..data/name.yaml, and an update swaps the ..data
// symlink to a new folder in one rename; the file name itself never changes.
TEST_F(ManifestsSourceTest, ConfigMapStyleSymlinkSwap) {
  const fs::path root(dir_);
  fs::create_directory(root / "..v1");
  std::ofstream(root / "..v1" / "app.yaml") << Service("one", 80);
  fs::create_directory_symlink("..v1", root / "..data");
  fs::create_symlink("..data/app.yaml", root / "app.yaml");
  StartSource(10s);
  ASSERT_EQ(sink_.Take().size(), 2u);

  fs::create_directory(root / "..v2");
  std::ofstream(root / "..v2" / "app.yaml") << Service("one", 81);
  fs::create_directory_symlink("..v2", root / "..data_tmp");
  fs::rename(root / "..data_tmp", root / "..data");
  std::vector<Event> events;
  ASSERT_TRUE(sink_.WaitFor(IsUpsert("web/one"), 2s, &events));
  EXPECT_EQ(events.back().object["spec"]["ports"][0]["port"], 81);
}

TEST_F(ManifestsSourceTest, FolderRemovedKeepsObjectsAndRecovers) {
  Write("a.yaml", Service("one"));
  StartSource(100ms);
  sink_.Take();
  fs::remove_all(dir_);
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(sink_.Take().empty());
  fs::create_directory(dir_);
  Write("a.yaml", Service("one", 82));
  std::vector<Event> events;
  ASSERT_TRUE(sink_.WaitFor(IsUpsert("web/one"), 2s, &events));
  EXPECT_EQ(events.back().object["spec"]["ports"][0]["port"], 82);
}

TEST_F(ManifestsSourceTest, StopIsPromptAndIdempotent) {
  StartSource(10s);
  const auto start = std::chrono::steady_clock::now();
  source_->Stop();
  source_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

}  // namespace
}  // namespace pier::sources
