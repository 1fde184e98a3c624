// The chat page and, with --static DIR, any other file under DIR.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace pier::chat {

// index.html as it was when the binary was built.
std::string_view EmbeddedIndexHtml();

struct StaticFile {
  std::string body;
  std::string content_type;
};

class StaticFiles final {
 public:
  // Without a directory only "/" and "/index.html" exist (the embedded page).
  explicit StaticFiles(std::optional<std::filesystem::path> dir);

  // The file a request path names, or nothing when there is none or the path tries to leave
  // the directory.
  std::optional<StaticFile> Find(std::string_view path) const;

 private:
  std::optional<std::filesystem::path> dir_;
};

std::string_view ContentTypeFor(const std::filesystem::path& file);

}  // namespace pier::chat
