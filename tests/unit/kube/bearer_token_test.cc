#include "kube/bearer_token.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pier::kube {
namespace {

namespace fs = std::filesystem;

class TokenFile {
 public:
  TokenFile() {
    std::string pattern = (fs::temp_directory_path() / "pier-token-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    path_ = (dir_ / "token").string();
  }
  ~TokenFile() { fs::remove_all(dir_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& token) const { std::ofstream(path_) << token; }
  void Remove() const { fs::remove(path_); }

 private:
  fs::path dir_;
  std::string path_;
};

TEST(BearerToken, StaticTokenNeverChanges) {
  BearerToken token("abc", "");
  EXPECT_EQ(token.Current(), "abc");
  EXPECT_FALSE(token.Invalidate());  // nothing to re-read
  EXPECT_EQ(token.Current(), "abc");
}

TEST(BearerToken, FileIsReReadAfterInvalidate) {
  TokenFile file;
  file.Write("one\n");
  BearerToken token("one", file.path(), std::chrono::hours(1));
  file.Write("two\n");
  EXPECT_EQ(token.Current(), "one");  // within the refresh period: cached
  EXPECT_TRUE(token.Invalidate());
  EXPECT_EQ(token.Current(), "two");
}

TEST(BearerToken, FileIsReReadPeriodically) {
  TokenFile file;
  file.Write("one");
  BearerToken token("one", file.path(), std::chrono::milliseconds(0));
  file.Write("rotated\n");
  EXPECT_EQ(token.Current(), "rotated");
}

TEST(BearerToken, KeepsTheLastGoodTokenWhenTheFileIsGone) {
  TokenFile file;
  file.Write("good");
  BearerToken token("good", file.path(), std::chrono::milliseconds(0));
  file.Remove();
  EXPECT_EQ(token.Current(), "good");
  file.Write("\n");  // empty after trimming
  EXPECT_EQ(token.Current(), "good");
}

}  // namespace
}  // namespace pier::kube
