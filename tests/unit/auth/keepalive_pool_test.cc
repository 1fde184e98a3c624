// The worker's pool of idle connections to auth services (auth-keepalive), on real loopback
// sockets: what is handed out, what is closed, and when.
#include "auth/keepalive_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace pier::dataplane::external_auth {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A listening socket on 127.0.0.1 and the server side of every connection made to it.
class KeepalivePoolTest : public ::testing::Test {
 protected:
  KeepalivePoolTest() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  // A connected client side, as the checker would park it.
  AuthConnectionPtr Connect() {
    auto connection = std::make_shared<AuthConnection>(ioc_.get_executor(), tls_);
    connection->stream.next_layer().connect(acceptor_.local_endpoint());
    servers_.push_back(std::make_unique<tcp::socket>(acceptor_.accept()));
    return connection;
  }

  // Whether the server side of connection `i` sees the client's close (EOF) within `wait`.
  bool ClosedByClient(std::size_t i, std::chrono::milliseconds wait) {
    auto& server = *servers_.at(i);
    server.non_blocking(true);
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      ioc_.run_for(10ms);
      ioc_.restart();
      char byte = 0;
      boost::system::error_code ec;
      server.read_some(asio::buffer(&byte, 1), ec);
      if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
    }
    return false;
  }

  asio::io_context ioc_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  tcp::acceptor acceptor_;
  std::vector<std::unique_ptr<tcp::socket>> servers_;
  KeepalivePool pool_;
};

TEST_F(KeepalivePoolTest, AParkedConnectionIsHandedOutAgainMostRecentFirst) {
  auto first = Connect();
  auto second = Connect();
  pool_.Put("http://auth 80", first, 4, 60s);
  pool_.Put("http://auth 80", second, 4, 60s);
  EXPECT_EQ(pool_.idle_count("http://auth 80"), 2u);
  EXPECT_EQ(pool_.Take("http://other 80"), nullptr);
  EXPECT_EQ(pool_.Take("http://auth 80"), second);
  EXPECT_EQ(pool_.Take("http://auth 80"), first);
  EXPECT_EQ(pool_.Take("http://auth 80"), nullptr);
  // Taken connections are left alone: the server sees nothing closed.
  EXPECT_FALSE(ClosedByClient(0, 50ms));
}

TEST_F(KeepalivePoolTest, OverTheLimitTheConnectionIsClosed) {
  auto first = Connect();
  auto second = Connect();
  pool_.Put("k", first, 1, 60s);
  pool_.Put("k", second, 1, 60s);
  EXPECT_EQ(pool_.idle_count("k"), 1u);
  EXPECT_TRUE(ClosedByClient(1, 1000ms));
  EXPECT_EQ(pool_.Take("k"), first);
}

TEST_F(KeepalivePoolTest, AnIdleConnectionIsClosedAfterItsTimeout) {
  auto connection = Connect();
  pool_.Put("k", connection, 1, 100ms);
  EXPECT_FALSE(ClosedByClient(0, 50ms));
  EXPECT_TRUE(ClosedByClient(0, 1000ms));
  EXPECT_EQ(pool_.idle_count("k"), 0u);
  EXPECT_EQ(pool_.Take("k"), nullptr);
}

TEST_F(KeepalivePoolTest, AConnectionTheServiceClosesIsDropped) {
  auto watched = Connect();
  pool_.Put("k", watched, 2, 60s);
  servers_[0]->close();
  // The watch sees it without anyone asking...
  for (int i = 0; i < 100 && pool_.idle_count("k") != 0; ++i) {
    ioc_.run_for(10ms);
    ioc_.restart();
  }
  EXPECT_EQ(pool_.idle_count("k"), 0u);
  // ...and Take's own check catches a close the watch has not seen yet.
  auto peeked = Connect();
  pool_.Put("k", peeked, 2, 60s);
  servers_[1]->close();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(pool_.Take("k"), nullptr);
}

TEST_F(KeepalivePoolTest, StrayBytesFromTheServiceMeanTheConnectionIsNotReused) {
  auto connection = Connect();
  pool_.Put("k", connection, 1, 60s);
  asio::write(*servers_[0], asio::buffer("HTTP/1.1 200 OK\r\n\r\n", 19));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(pool_.Take("k"), nullptr);
  EXPECT_TRUE(ClosedByClient(0, 1000ms));
}

TEST_F(KeepalivePoolTest, LeftoverBytesOrAClosedSocketAreNeverParked) {
  auto leftover = Connect();
  const char extra[] = "x";
  auto buffers = leftover->buffer.prepare(1);
  std::memcpy(buffers.data(), extra, 1);
  leftover->buffer.commit(1);
  pool_.Put("k", leftover, 4, 60s);
  EXPECT_EQ(pool_.idle_count("k"), 0u);
  EXPECT_TRUE(ClosedByClient(0, 1000ms));
}

TEST_F(KeepalivePoolTest, ClearClosesEverything) {
  pool_.Put("a", Connect(), 4, 60s);
  pool_.Put("b", Connect(), 4, 60s);
  pool_.Clear();
  EXPECT_EQ(pool_.idle_count("a") + pool_.idle_count("b"), 0u);
  EXPECT_TRUE(ClosedByClient(0, 1000ms));
  EXPECT_TRUE(ClosedByClient(1, 1000ms));
}

}  // namespace
}  // namespace pier::dataplane::external_auth
