#include "tls/deadline_socket.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tls/socket_flags.h"

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

// The session writes heads and small bodies with write_some_now first and continues in the
// same handler when everything went: it must gather the buffers and never wait.
TEST_F(DeadlineSocketTest, WriteSomeNowGathersTheBuffersAndNeverWaits) {
  std::array<asio::const_buffer, 3> pieces{asio::buffer("ab", 2), asio::const_buffer(), asio::buffer("cd", 2)};
  boost::system::error_code ec;
  EXPECT_EQ(socket_->write_some_now(pieces, ec), 4u);
  ASSERT_FALSE(ec) << ec.message();
  char received[4];
  asio::read(*peer_, asio::buffer(received));
  EXPECT_EQ(std::string(received, 4), "abcd");

  // Nobody reads: the socket's buffers fill, and then it says would_block instead of waiting.
  std::vector<char> chunk(64 * 1024, 'x');
  auto started = std::chrono::steady_clock::now();
  std::size_t total = 0;
  for (int i = 0; i < 10000 && !ec; ++i) total += socket_->write_some_now(asio::buffer(chunk), ec);
  EXPECT_EQ(ec, asio::error::would_block) << ec.message();
  EXPECT_GT(total, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

// connect_and_send: the socket a plain upstream connection starts with.
class ConnectAndSendTest : public ::testing::Test {
 protected:
  const tcp::endpoint kLoopback{asio::ip::make_address("127.0.0.1"), 0};

  // Runs the io_context until `done` holds a value (or 5 s pass).
  template <class T>
  void RunUntil(const std::optional<T>& done) {
    ioc_.restart();
    auto until = std::chrono::steady_clock::now() + 5s;
    while (!done && std::chrono::steady_clock::now() < until) ioc_.run_one_until(until);
  }

  // What `peer` receives before it sees `size` bytes or an end (at most 5 s).
  static std::string Receive(tcp::socket& peer, std::size_t size) {
    std::string received(size, '\0');
    boost::system::error_code ec;
    asio::read(peer, asio::buffer(received), ec);
    return received;
  }

  asio::io_context ioc_;
};

TEST_F(ConnectAndSendTest, OnLoopbackTheBytesGoOutWithTheConnect) {
  tcp::acceptor acceptor(ioc_, kLoopback);
  DeadlineSocket socket(ioc_.get_executor());
  boost::system::error_code ec;
  socket.open_non_blocking(tcp::v4(), ec);
  ASSERT_FALSE(ec) << ec.message();
  // The kernel runs a loopback handshake inside connect(): no wait, all of it sent at once.
  EXPECT_EQ(socket.connect_and_send(acceptor.local_endpoint(), asio::buffer("GET / HTTP/1.1\r\n", 16), ec), 16u);
  ASSERT_FALSE(ec) << ec.message();
  tcp::socket peer = acceptor.accept();
  EXPECT_EQ(Receive(peer, 16), "GET / HTTP/1.1\r\n");
  // The socket is non-blocking as Asio knows it (no ioctl before its first operation) and
  // works for the asynchronous operations that follow.
  std::optional<boost::system::error_code> read;
  char byte = 0;
  socket.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code e, std::size_t) { read = e; });
  asio::write(peer, asio::buffer("!", 1));
  RunUntil(read);
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE(*read) << read->message();
  EXPECT_EQ(byte, '!');
}

TEST_F(ConnectAndSendTest, ARefusedConnectIsReportedAsRefused) {
  tcp::endpoint closed;
  {
    tcp::acceptor acceptor(ioc_, kLoopback);
    closed = acceptor.local_endpoint();
  }
  DeadlineSocket socket(ioc_.get_executor());
  boost::system::error_code ec;
  socket.open_non_blocking(tcp::v4(), ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(socket.connect_and_send(closed, asio::buffer("x", 1), ec), 0u);
  EXPECT_EQ(ec, asio::error::connection_refused) << ec.message();
}

// A listener whose accept queue is full drops SYNs, so the handshake is still under way when
// connect() returns: connect_and_send says would_block and async_wait_connected waits, under
// the socket's deadline, for the SYN retransmitted about a second later.
class FullAcceptQueueTest : public ConnectAndSendTest {
 protected:
  void SetUp() override {
    listener_.open(tcp::v4());
    listener_.bind(kLoopback);
    listener_.listen(0);  // room for one connection waiting to be accepted
    queued_.connect(listener_.local_endpoint());
  }

  // The SYN is dropped: the handshake is under way when connect() returns.
  void StartConnect(DeadlineSocket& socket) {
    boost::system::error_code ec;
    socket.open_non_blocking(tcp::v4(), ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(socket.connect_and_send(listener_.local_endpoint(), asio::buffer("x", 1), ec), 0u);
    ASSERT_EQ(ec, asio::error::would_block) << ec.message();
  }

  tcp::acceptor listener_{ioc_};
  tcp::socket queued_{ioc_};
};

TEST_F(FullAcceptQueueTest, AHandshakeStillUnderWayTimesOutAtTheDeadline) {
  DeadlineSocket socket(ioc_.get_executor());
  ASSERT_NO_FATAL_FAILURE(StartConnect(socket));
  socket.expires_after(200ms);
  std::optional<boost::system::error_code> connected;
  socket.async_wait_connected([&](boost::system::error_code e) { connected = e; });
  RunUntil(connected);
  ASSERT_TRUE(connected.has_value());
  EXPECT_EQ(*connected, boost::beast::error::timeout);
  EXPECT_FALSE(socket.socket().is_open());
}

TEST_F(FullAcceptQueueTest, AHandshakeStillUnderWayIsWaitedFor) {
  DeadlineSocket socket(ioc_.get_executor());
  ASSERT_NO_FATAL_FAILURE(StartConnect(socket));
  tcp::socket first = listener_.accept();  // the queue has room again for the retransmitted SYN
  socket.expires_after(5s);
  std::optional<boost::system::error_code> connected;
  socket.async_wait_connected([&](boost::system::error_code e) { connected = e; });
  RunUntil(connected);
  ASSERT_TRUE(connected.has_value());
  EXPECT_FALSE(*connected) << connected->message();
  asio::write(socket.socket(), asio::buffer("late", 4));
  tcp::socket second = listener_.accept();
  EXPECT_EQ(Receive(second, 4), "late");
}

// Closing an accepted socket marked as not shared skips Asio's EPOLL_CTL_DEL: the kernel must
// have dropped it from the epoll set, or registering the next socket that gets the same
// descriptor number fails (EEXIST) and its operations never complete.
TEST(SocketFlagsTest, AClosedUnsharedSocketLeavesNoRegistrationBehind) {
  ASSERT_TRUE(kSocketFlagsSupported) << "Asio's socket state flags were not found: check tls/socket_flags.h";
  asio::io_context ioc;
  Acceptor acceptor(ioc.get_executor(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  for (int round = 0; round < 20; ++round) {
    tcp::socket client(ioc);
    client.connect(acceptor.local_endpoint());
    Socket accepted = acceptor.accept();
    ASSERT_TRUE(MarkNotShared(accepted));
    const int descriptor = accepted.native_handle();
    bool read_done = false;
    char byte = 0;
    accepted.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code, std::size_t) { read_done = true; });
    ioc.restart();
    ioc.poll();
    accepted.close();  // the pending read ends as aborted
    ioc.restart();
    ioc.poll();
    ASSERT_TRUE(read_done);

    Socket next(ioc.get_executor());
    boost::system::error_code ec;
    next.open(tcp::v4(), ec);  // EPOLL_CTL_ADD
    ASSERT_FALSE(ec) << "round " << round << ": " << ec.message();
    ASSERT_EQ(next.native_handle(), descriptor) << "the test needs the descriptor number reused";
    next.connect(acceptor.local_endpoint());
    Socket peer = acceptor.accept();
    std::optional<boost::system::error_code> read;
    next.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code e, std::size_t) { read = e; });
    asio::write(peer, asio::buffer("y", 1));
    ioc.restart();
    auto until = std::chrono::steady_clock::now() + 5s;
    while (!read && std::chrono::steady_clock::now() < until) ioc.run_one_until(until);
    ASSERT_TRUE(read.has_value()) << "round " << round;
    EXPECT_FALSE(*read);
  }
}

}  // namespace
}  // namespace pier::dataplane::tls
