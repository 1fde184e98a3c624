#include "kube/bearer_token.h"

#include <spdlog/spdlog.h>

#include "kube/kubeconfig.h"

namespace pier::kube {

BearerToken::BearerToken(std::string token, std::string file, std::chrono::steady_clock::duration refresh)
    : token_(std::move(token)), file_(std::move(file)), refresh_(refresh), read_at_(std::chrono::steady_clock::now()) {}

std::string BearerToken::Current() {
  std::lock_guard lock(mutex_);
  if (file_.empty()) return token_;
  const auto now = std::chrono::steady_clock::now();
  if (!stale_ && now - read_at_ < refresh_) return token_;
  auto read = ReadFile(file_);
  // Trailing newlines are common in token files and invalid in a header.
  std::string fresh = read ? *read : std::string();
  while (!fresh.empty() && (fresh.back() == '\n' || fresh.back() == '\r' || fresh.back() == ' ')) fresh.pop_back();
  if (!read || fresh.empty()) {
    spdlog::warn("kube: cannot re-read the API token ({}); keeping the previous one",
                 read ? file_ + " is empty" : read.error());
  } else {
    if (fresh != token_) spdlog::info("kube: API token re-read from {}", file_);
    token_ = std::move(fresh);
  }
  // Retry no sooner than the next period even after a failure, so a missing file is not
  // hammered on every request.
  read_at_ = now;
  stale_ = false;
  return token_;
}

bool BearerToken::Invalidate() {
  std::lock_guard lock(mutex_);
  if (file_.empty()) return false;
  stale_ = true;
  return true;
}

}  // namespace pier::kube
