// The bearer token sent with every request. A token from a file (in-cluster projected tokens,
// kubeconfig tokenFile) is rotated by the kubelet, so it is re-read periodically and as soon as
// the server answers 401.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace pier::kube {

class BearerToken final {
 public:
  static constexpr std::chrono::seconds kDefaultRefresh{60};

  // `file` empty: the static token is used forever.
  BearerToken(std::string token, std::string file, std::chrono::steady_clock::duration refresh = kDefaultRefresh);

  // The token to send now ("" = none). Thread-safe. A failed re-read keeps the last good token
  // (a rotation replaces the file non-atomically on some volumes) and is logged.
  std::string Current();

  // The server rejected the token: the next Current() re-reads the file. Returns whether there
  // is a file to re-read (a static token cannot get better by retrying).
  bool Invalidate();

 private:
  std::mutex mutex_;
  std::string token_;
  const std::string file_;
  const std::chrono::steady_clock::duration refresh_;
  std::chrono::steady_clock::time_point read_at_;
  bool stale_ = false;
};

}  // namespace pier::kube
