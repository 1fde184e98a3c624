// Reads with TCP_INQ's count (tls/inq_read.h): a read that empties the socket lets the next one
// wait without a recv() for nothing, and nothing that is still queued (more bytes, the peer's
// FIN, bytes behind urgent data) is ever left waiting for an event that will not come.
#include "tls/inq_read.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/ioctl.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "tls/deadline_socket.h"

namespace pier::dataplane::tls {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct ReadResult {
  boost::system::error_code ec;
  std::string data;
};

// A connected pair on loopback: `socket` under test (the data path's DeadlineSocket), `peer`
// the other end.
class InqReadTest : public ::testing::Test {
 protected:
  void Connect(bool inq) {
    tcp::acceptor acceptor(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    Socket client(ioc_.get_executor());
    client.connect(acceptor.local_endpoint());
    if (inq) {
      ASSERT_TRUE(EnableInq(client.native_handle()));
    }
    peer_.emplace(acceptor.accept());
    socket_.emplace(std::move(client));
  }

  // Starts a read of at most `size` bytes; Finish() runs the io_context until it completes.
  void Start(std::size_t size = sizeof(buffer_)) {
    result_.reset();
    socket_->async_read_some(asio::buffer(buffer_, size), [this](boost::system::error_code ec, std::size_t n) {
      result_ = ReadResult{ec, std::string(buffer_, n)};
    });
  }
  std::optional<ReadResult> Finish(std::chrono::steady_clock::duration run_for = 2s) {
    ioc_.restart();
    auto until = std::chrono::steady_clock::now() + run_for;
    while (!result_ && std::chrono::steady_clock::now() < until) ioc_.run_one_until(until);
    return result_;
  }
  std::optional<ReadResult> Read(std::size_t size = sizeof(buffer_)) {
    Start(size);
    return Finish();
  }

  // Waits until the socket under test has `bytes` queued (and, with `fin`, the peer's FIN).
  void WaitQueued(int bytes, bool fin = false) {
    auto until = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < until) {
      if (Queued() == bytes && (!fin || PeerClosed())) return;
      std::this_thread::sleep_for(1ms);
    }
    FAIL() << "never queued " << bytes << " bytes (have " << Queued() << ")";
  }
  int Queued() {
    int n = -1;
    ::ioctl(socket_->socket().native_handle(), FIONREAD, &n);
    return n;
  }
  bool PeerClosed() {
    pollfd p{socket_->socket().native_handle(), POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLRDHUP) != 0;
  }

  // Lets the reactor collect the socket's pending readiness event while no read is queued:
  // the state in which a read that wrongly trusts a short count would wait for nothing.
  void CollectEvents() {
    asio::steady_timer keep(ioc_, 1h);  // work, so poll() runs the reactor
    keep.async_wait([](boost::system::error_code) {});
    ioc_.restart();
    ioc_.poll();
    keep.cancel();
    ioc_.restart();
    ioc_.poll();
  }

  void PeerWrite(const std::string& data, int flags = 0) {
    ASSERT_EQ(::send(peer_->native_handle(), data.data(), data.size(), flags), static_cast<ssize_t>(data.size()));
  }

  // A read that takes all the peer sent ("abc"), then one more byte from the peer, queued
  // before the next read starts.
  void ReadShortThenStartAnother() {
    PeerWrite("abc");
    auto first = Read();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->data, "abc");
    PeerWrite("x");
    WaitQueued(1);
    Start();
  }

  asio::io_context ioc_;
  std::optional<tcp::socket> peer_;
  std::optional<DeadlineSocket> socket_;
  std::optional<ReadResult> result_;
  char buffer_[16];
};

TEST_F(InqReadTest, AReadThatEmptiesTheSocketLetsTheNextWaitWithoutReceiving) {
  if (!kInqReadsSupported) GTEST_SKIP() << "TCP_INQ reads need Asio 1.18 and a kernel with TCP_INQ";
  Connect(true);
  ReadShortThenStartAnother();
  // The read waits for the readiness event instead of receiving at once: the byte is still queued.
  EXPECT_EQ(Queued(), 1);
  auto second = Finish();
  ASSERT_TRUE(second) << "the byte that came after the short read was never read";
  EXPECT_FALSE(second->ec);
  EXPECT_EQ(second->data, "x");
}

TEST_F(InqReadTest, WithoutTcpInqEveryReadReceivesAtOnceAsAsioDoes) {
  Connect(false);
  ReadShortThenStartAnother();
  EXPECT_EQ(Queued(), 0);  // Asio's speculative recv took it
  auto second = Finish();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->data, "x");
}

TEST_F(InqReadTest, BytesFollowedByTheFinAreReadToTheEndOfTheStream) {
  Connect(true);
  PeerWrite("hello");
  peer_->shutdown(tcp::socket::shutdown_send);
  WaitQueued(5, /*fin=*/true);
  CollectEvents();
  auto data = Read();
  ASSERT_TRUE(data);
  EXPECT_EQ(data->data, "hello");
  auto end = Read();
  ASSERT_TRUE(end) << "the FIN behind a short read was left unread";
  EXPECT_EQ(end->ec, asio::error::eof);
}

TEST_F(InqReadTest, ABufferSmallerThanWhatIsQueuedLeavesTheRestReadable) {
  Connect(true);
  PeerWrite(std::string(24, 'a'));
  WaitQueued(24);
  CollectEvents();
  auto first = Read(16);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data.size(), 16u);
  auto rest = Read(16);
  ASSERT_TRUE(rest) << "bytes left behind a full read were never read";
  EXPECT_EQ(rest->data, std::string(8, 'a'));
}

TEST_F(InqReadTest, UrgentDataDoesNotStrandTheBytesAfterIt) {
  Connect(true);
  // The receive stops at the urgent byte; what follows it is still queued.
  PeerWrite("ab");
  PeerWrite("c", MSG_OOB);
  PeerWrite("de");
  std::this_thread::sleep_for(50ms);
  CollectEvents();
  std::string received;
  while (received.size() < 4) {
    auto read = Read();
    ASSERT_TRUE(read) << "stranded after '" << received << "'";
    ASSERT_FALSE(read->ec) << read->ec.message();
    received += read->data;
  }
  EXPECT_EQ(received, "abde");  // the urgent byte itself is out of band
}

}  // namespace
}  // namespace pier::dataplane::tls
