#include "upstream/connection_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace pier::dataplane::upstream {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A loopback listener standing in for an upstream; keeps the server side of each connection
// so a test can close or write on it.
class PoolTest : public ::testing::Test {
 protected:
  PoolTest() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {}

  UpstreamConnectionPtr Connect() {
    auto connection = std::make_shared<UpstreamConnection>(ioc_.get_executor());
    connection->endpoint_id = "upstream";
    connection->stream.socket().connect(acceptor_.local_endpoint());
    server_sides_.push_back(acceptor_.accept());
    return connection;
  }

  void RunFor(std::chrono::milliseconds duration) {
    ioc_.restart();
    ioc_.run_for(duration);
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<tcp::socket> server_sides_;
};

TEST_F(PoolTest, TakeReturnsTheParkedConnection) {
  ConnectionPool pool(ioc_, PoolLimits{});
  auto connection = Connect();
  auto* raw = connection.get();
  pool.Put(connection);
  EXPECT_EQ(pool.idle_count(), 1u);
  EXPECT_EQ(pool.Take("other"), nullptr);
  auto taken = pool.Take("upstream");
  EXPECT_EQ(taken.get(), raw);
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_EQ(pool.Take("upstream"), nullptr);
}

TEST_F(PoolTest, UpstreamCloseDropsTheConnectionFromThePool) {
  ConnectionPool pool(ioc_, PoolLimits{});
  pool.Put(Connect());
  server_sides_.back().close();
  RunFor(std::chrono::milliseconds(200));
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_EQ(pool.Take("upstream"), nullptr);
}

TEST_F(PoolTest, AConnectionParkedPastTheWatchDelayIsDroppedAsSoonAsTheUpstreamCloses) {
  ConnectionPool pool(ioc_, PoolLimits{});
  pool.Put(Connect());
  RunFor(ConnectionPool::kWatchDelay * 2);  // the watch pass has run: the socket is watched
  ASSERT_EQ(pool.idle_count(), 1u);
  server_sides_.back().close();
  RunFor(std::chrono::milliseconds(20));  // less than a watch delay: only a pending watch sees it
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST_F(PoolTest, ReParkedConnectionIsWatchedAgain) {
  ConnectionPool pool(ioc_, PoolLimits{});
  pool.Put(Connect());
  RunFor(ConnectionPool::kWatchDelay * 2);
  auto taken = pool.Take("upstream");
  ASSERT_NE(taken, nullptr);
  pool.Put(taken);
  RunFor(ConnectionPool::kWatchDelay * 2);
  server_sides_.back().close();
  RunFor(std::chrono::milliseconds(20));
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST_F(PoolTest, ClosedConnectionIsNotHandedOutEvenBeforeTheWatchRuns) {
  ConnectionPool pool(ioc_, PoolLimits{});
  pool.Put(Connect());
  server_sides_.back().close();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // FIN arrives; the io_context never runs
  EXPECT_EQ(pool.Take("upstream"), nullptr);
}

TEST_F(PoolTest, WithoutThePeekTheCallerGetsTheConnectionAndFindsOutByUsingIt) {
  // kTrustWatch is for requests that can be sent again on a fresh connection: the close is
  // noticed by the first read or write, not by a system call on every reuse.
  ConnectionPool pool(ioc_, PoolLimits{});
  pool.Put(Connect());
  server_sides_.back().close();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto taken = pool.Take("upstream", ConnectionPool::Check::kTrustWatch);
  ASSERT_NE(taken, nullptr);
  char byte = 0;
  boost::system::error_code ec;
  taken->stream.socket().read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST_F(PoolTest, TakenConnectionIsNotClosedByTheCancelledWatch) {
  ConnectionPool pool(ioc_, PoolLimits{});
  pool.Put(Connect());
  auto taken = pool.Take("upstream");
  ASSERT_NE(taken, nullptr);
  asio::write(server_sides_.back(), asio::buffer("x", 1));  // would have made the watch fire
  RunFor(std::chrono::milliseconds(100));
  EXPECT_TRUE(taken->stream.socket().is_open());
}

TEST_F(PoolTest, IdleTimeoutClosesParkedConnections) {
  PoolLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(100);
  ConnectionPool pool(ioc_, limits);
  pool.Put(Connect());
  RunFor(std::chrono::milliseconds(400));
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST_F(PoolTest, BoundedPerEndpoint) {
  PoolLimits limits;
  limits.max_idle_per_endpoint = 2;
  ConnectionPool pool(ioc_, limits);
  pool.Put(Connect());
  pool.Put(Connect());
  auto third = Connect();
  pool.Put(third);
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_FALSE(third->stream.socket().is_open());
}

TEST_F(PoolTest, ConnectionWithUnreadBytesIsNotPooled) {
  ConnectionPool pool(ioc_, PoolLimits{});
  auto connection = Connect();
  auto space = connection->buffer.prepare(4);
  std::memcpy(space.data(), "junk", 4);
  connection->buffer.commit(4);
  pool.Put(connection);
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST_F(PoolTest, ClearClosesEverything) {
  ConnectionPool pool(ioc_, PoolLimits{});
  auto connection = Connect();
  pool.Put(connection);
  pool.Clear();
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_FALSE(connection->stream.socket().is_open());
}

}  // namespace
}  // namespace pier::dataplane::upstream
