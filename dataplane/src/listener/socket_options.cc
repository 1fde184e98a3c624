#include "listener/socket_options.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace pier::dataplane {

void ApplyTcpKeepAlive(Socket& socket, std::chrono::seconds idle) noexcept {
  if (idle.count() <= 0 || !socket.is_open()) return;
  if (!ApplyTcpKeepAlive(socket.native_handle(), idle)) {
    spdlog::debug("cannot enable TCP keepalive on fd {}: errno {}", socket.native_handle(), errno);
  }
}

bool ApplyTcpKeepAlive(int fd, std::chrono::seconds idle) noexcept {
  if (idle.count() <= 0) return true;
  int on = 1;
  int idle_s = static_cast<int>(std::min<long long>(idle.count(), 32767));  // the kernel's maximum
  int interval_s = std::max(1, idle_s / 3);
  int probes = kKeepAliveProbes;
  unsigned user_timeout_ms = static_cast<unsigned>(idle_s + interval_s * probes) * 1000u;
  return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s)) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s)) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes)) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms)) == 0;
}

bool ApplyClientSocketOptions(int fd, std::chrono::seconds keepalive_idle) noexcept {
  int on = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0 && ApplyTcpKeepAlive(fd, keepalive_idle);
}

}  // namespace pier::dataplane
