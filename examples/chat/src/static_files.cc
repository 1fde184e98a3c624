#include "static_files.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

namespace pier::chat {
namespace {

// The page is small; anything bigger is not what this server is for.
constexpr std::uintmax_t kMaxFileBytes = 4 * 1024 * 1024;

// Only plain relative names: no "..", no hidden files, no backslashes or NULs that could mean
// something else to the filesystem.
bool IsSafeRelativePath(std::string_view path) {
  if (path.empty()) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part.front() == '.') return false;
    for (char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '_' || c == '.';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

std::optional<std::string> ReadSmallFile(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  auto size = std::filesystem::file_size(file, ec);
  if (ec || size > kMaxFileBytes) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(out).str();
}

}  // namespace

StaticFiles::StaticFiles(std::optional<std::filesystem::path> dir) : dir_(std::move(dir)) {}

std::optional<StaticFile> StaticFiles::Find(std::string_view path) const {
  if (path == "/") path = "/index.html";
  if (!dir_) {
    if (path != "/index.html") return std::nullopt;
    return StaticFile{std::string(EmbeddedIndexHtml()), "text/html; charset=utf-8"};
  }
  if (path.front() != '/' || !IsSafeRelativePath(path.substr(1))) return std::nullopt;
  std::filesystem::path file = *dir_ / std::filesystem::path(path.substr(1));
  auto body = ReadSmallFile(file);
  if (!body) return std::nullopt;
  return StaticFile{std::move(*body), std::string(ContentTypeFor(file))};
}

std::string_view ContentTypeFor(const std::filesystem::path& file) {
  auto ext = file.extension().string();
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace pier::chat
