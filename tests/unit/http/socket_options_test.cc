// Options set once on a listening socket reach every connection it accepts
// (listener/socket_options.h): Linux clones the accepted socket from the listener.
#include "listener/socket_options.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>

namespace pier::dataplane {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// A listener on loopback, set up by `prepare`, and one connection accepted from it.
struct AcceptedPair {
  explicit AcceptedPair(bool (*prepare)(int)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(listener.get(), 4), 0);
    if (prepare != nullptr) prepared = prepare(listener.get());
    EXPECT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    EXPECT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
    accepted = std::make_unique<Fd>(::accept(listener.get(), nullptr, nullptr));
  }
  int Option(int level, int name) const {
    int value = -1;
    socklen_t size = sizeof(value);
    EXPECT_EQ(::getsockopt(accepted->get(), level, name, &value, &size), 0);
    return value;
  }

  Fd listener{::socket(AF_INET, SOCK_STREAM, 0)};
  Fd client{::socket(AF_INET, SOCK_STREAM, 0)};
  std::unique_ptr<Fd> accepted;
  bool prepared = false;
};

TEST(SocketOptionsTest, ClientOptionsSetOnTheListenerReachAcceptedConnections) {
  AcceptedPair pair(+[](int fd) { return ApplyClientSocketOptions(fd, std::chrono::seconds(30)); });
  ASSERT_TRUE(pair.prepared);
  ASSERT_GE(pair.accepted->get(), 0);
  EXPECT_EQ(pair.Option(IPPROTO_TCP, TCP_NODELAY), 1);
  EXPECT_EQ(pair.Option(SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(pair.Option(IPPROTO_TCP, TCP_KEEPIDLE), 30);
}

}  // namespace
}  // namespace pier::dataplane
