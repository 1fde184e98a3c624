#include "tls/deadline_socket.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

namespace pier::dataplane::tls {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A connected pair on loopback: `socket` under test, `peer` the other end.
class DeadlineSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tcp::acceptor acceptor(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    Socket client(ioc_.get_executor());  // the data path's socket type
    client.connect(acceptor.local_endpoint());
    peer_.emplace(acceptor.accept());
    socket_.emplace(std::move(client));
  }

  // Runs the io_context until the read completes (or 5 s pass) and returns its outcome.
  std::optional<boost::system::error_code> Read(std::chrono::steady_clock::duration run_for = 5s) {
    std::optional<boost::system::error_code> result;
    socket_->async_read_some(asio::buffer(buffer_), [&](boost::system::error_code ec, std::size_t) { result = ec; });
    ioc_.restart();
    auto until = std::chrono::steady_clock::now() + run_for;
    while (!result && std::chrono::steady_clock::now() < until) ioc_.run_one_until(until);
    return result;
  }

  // The peer writes a byte after `delay`.
  void WriteAfter(std::chrono::milliseconds delay) {
    timer_.expires_after(delay);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) asio::write(*peer_, asio::buffer("x", 1));
    });
  }

  asio::io_context ioc_;
  std::optional<tcp::socket> peer_;
  std::optional<DeadlineSocket> socket_;
  asio::steady_timer timer_{ioc_};
  char buffer_[16];
};

TEST_F(DeadlineSocketTest, APendingReadPastItsDeadlineTimesOutAndClosesTheSocket) {
  socket_->expires_after(50ms);
  auto started = std::chrono::steady_clock::now();
  auto ec = Read();
  ASSERT_TRUE(ec.has_value());
  EXPECT_EQ(*ec, boost::beast::error::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
  EXPECT_FALSE(socket_->socket().is_open());
}

TEST_F(DeadlineSocketTest, AReadThatCompletesInTimeIsUntouched) {
  socket_->expires_after(2s);
  WriteAfter(10ms);
  auto ec = Read();
  ASSERT_TRUE(ec.has_value());
  EXPECT_FALSE(*ec) << ec->message();
  EXPECT_TRUE(socket_->socket().is_open());
}

TEST_F(DeadlineSocketTest, ALaterDeadlineExtendsTheTimerArmedForAnEarlierOne) {
  // The first read arms the timer for 100 ms; the second read's deadline is 400 ms out, so
  // when the timer fires at 100 ms it must wait on instead of cutting a read that is in time.
  socket_->expires_after(100ms);
  WriteAfter(5ms);
  ASSERT_EQ(Read(), boost::system::error_code());
  socket_->expires_after(400ms);
  WriteAfter(200ms);
  auto ec = Read();
  ASSERT_TRUE(ec.has_value());
  EXPECT_FALSE(*ec) << ec->message();
}

TEST_F(DeadlineSocketTest, AnEarlierDeadlineReArmsTheTimer) {
  socket_->expires_after(30s);
  WriteAfter(1ms);
  ASSERT_EQ(Read(), boost::system::error_code());
  socket_->expires_after(50ms);
  auto ec = Read(2s);
  ASSERT_TRUE(ec.has_value()) << "the 30 s wait still ruled";
  EXPECT_EQ(*ec, boost::beast::error::timeout);
}

TEST_F(DeadlineSocketTest, NoOperationPendingAtTheDeadlineLeavesTheSocketOpen) {
  socket_->expires_after(20ms);
  WriteAfter(1ms);
  ASSERT_EQ(Read(), boost::system::error_code());
  // The timer armed by the read fires with nothing in flight.
  ioc_.restart();
  ioc_.run_for(100ms);
  EXPECT_TRUE(socket_->socket().is_open());
  socket_->expires_never();
  WriteAfter(1ms);
  EXPECT_EQ(Read(), boost::system::error_code());
}

TEST_F(DeadlineSocketTest, ExpiresNeverDisarmsAPendingRead) {
  socket_->expires_after(50ms);
  std::optional<boost::system::error_code> result;
  socket_->async_read_some(asio::buffer(buffer_), [&](boost::system::error_code ec, std::size_t) { result = ec; });
  socket_->expires_never();
  WriteAfter(150ms);
  auto until = std::chrono::steady_clock::now() + 5s;
  while (!result && std::chrono::steady_clock::now() < until) ioc_.run_one_until(until);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result) << result->message();
}

TEST_F(DeadlineSocketTest, DestroyingTheSocketCancelsItsLazyWait) {
  socket_->expires_after(1h);
  WriteAfter(1ms);
  ASSERT_EQ(Read(), boost::system::error_code());
  socket_.reset();
  // The hour-long wait was cancelled, so the io_context runs out of work at once.
  ioc_.restart();
  auto started = std::chrono::steady_clock::now();
  ioc_.run_for(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

// The tunnel reads after a readiness wait and must never block its thread there, without
// paying an ioctl per socket to make it non-blocking: read_some answers at once either way.
TEST_F(DeadlineSocketTest, ReadSomeNeverWaitsOnABlockingSocket) {
  ASSERT_FALSE(socket_->socket().non_blocking());
  // Were read_some to wait, this byte would end the wait after 2 s.
  std::thread late_writer([this] {
    std::this_thread::sleep_for(2s);
    boost::system::error_code ignored;
    asio::write(*peer_, asio::buffer("z", 1), ignored);
  });
  boost::system::error_code ec;
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(socket_->read_some(asio::buffer(buffer_), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  late_writer.join();

  EXPECT_EQ(socket_->read_some(asio::buffer(buffer_), ec), 1u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(buffer_[0], 'z');
  EXPECT_EQ(socket_->read_some(asio::buffer(buffer_, 0), ec), 0u);  // empty: not an end of stream
  EXPECT_FALSE(ec);

  peer_->shutdown(tcp::socket::shutdown_send);
  auto until = std::chrono::steady_clock::now() + 5s;
  do {
    socket_->read_some(asio::buffer(buffer_), ec);
  } while (ec == asio::error::would_block && std::chrono::steady_clock::now() < until);
  EXPECT_EQ(ec, asio::error::eof);
}

}  // namespace
}  // namespace pier::dataplane::tls
