// A small blocking upstream for loopback tests of the proxy: one thread per connection,
// behaviour chosen by path (see test_backend.cc).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace pier::dataplane::testing {

class TestBackend final {
 public:
  TestBackend();
  ~TestBackend();
  unsigned short port() const { return port_; }
  int connections_accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop();
  void Serve(std::shared_ptr<boost::asio::ip::tcp::socket> socket, int connection_id);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace pier::dataplane::testing
