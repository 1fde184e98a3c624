// AsyncReadHead over a real loopback socket: heads split across reads, refused heads that
// consume nothing, the size limit, a peer that hangs up mid-head, and no handler call from
// inside the initiating function. ParseBufferedHead on a buffer: the same outcomes without a
// socket, and a search that resumes where the last call stopped.
#include "http/read_head.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>

namespace pier::dataplane::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class ReadHeadTest : public ::testing::Test {
 protected:
  ReadHeadTest() : server_(ioc_), client_(ioc_) {
    tcp::acceptor acceptor(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_.connect(acceptor.local_endpoint());
    server_.socket() = acceptor.accept();
  }

  // Starts the read, then writes `pieces` one poll apart so the head really arrives in parts.
  void Read(std::initializer_list<std::string> pieces, HeadLimits limits = {}, bool close_after = false) {
    AsyncReadHead(server_, buffer_, parser_, limits, [this](boost::system::error_code ec, std::size_t bytes) {
      done_ = true;
      ec_ = ec;
      bytes_ = bytes;
    });
    for (const auto& piece : pieces) {
      asio::write(client_, asio::buffer(piece));
      ioc_.poll();
      ioc_.restart();
    }
    if (close_after) client_.shutdown(tcp::socket::shutdown_send);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      ioc_.run_for(std::chrono::milliseconds(10));
      ioc_.restart();
    }
    ASSERT_TRUE(done_);
  }

  std::string Buffered() const {
    return std::string(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  }

  asio::io_context ioc_;
  beast::tcp_stream server_;
  tcp::socket client_;
  beast::flat_buffer buffer_;
  bhttp::request_parser<bhttp::buffer_body> parser_;
  bool done_ = false;
  boost::system::error_code ec_;
  std::size_t bytes_ = 0;
};

TEST_F(ReadHeadTest, SplitHeadIsAssembledAndTheBodyLeftBuffered) {
  Read({"POST /p HTTP/1.1\r\nHo", "st: a\r\nContent-Length: 5\r", "\n\r\nhel"});
  ASSERT_FALSE(ec_) << ec_.message();
  EXPECT_EQ(bytes_, 48u);
  EXPECT_TRUE(parser_.is_header_done());
  EXPECT_EQ(parser_.get().target(), "/p");
  EXPECT_EQ(parser_.content_length().value_or(0), 5u);
  EXPECT_EQ(Buffered(), "hel");
}

TEST_F(ReadHeadTest, RefusedHeadConsumesNothing) {
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
  Read({head});
  ASSERT_TRUE(IsFramingError(ec_));
  EXPECT_EQ(ViolationOf(ec_), Violation::kDuplicateHost);
  EXPECT_FALSE(parser_.is_header_done());
  EXPECT_EQ(Buffered(), head);
}

TEST_F(ReadHeadTest, BadFirstChunkIsRefusedWithTheHead) {
  Read({"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"});
  EXPECT_TRUE(ec_);
  EXPECT_FALSE(IsFramingError(ec_));
  EXPECT_EQ(ec_.category(), bhttp::make_error_code(bhttp::error::bad_chunk).category());
}

TEST_F(ReadHeadTest, NeverEndingHeadHitsTheLimit) {
  Read({"GET / HTTP/1.1\r\nX: " + std::string(300, 'x'), std::string(300, 'y')}, HeadLimits{.max_bytes = 512});
  EXPECT_EQ(ec_, bhttp::error::header_limit);
}

TEST_F(ReadHeadTest, HangUpMidHeadIsPartialMessage) {
  Read({"GET / HTTP/1.1\r\n"}, {}, /*close_after=*/true);
  EXPECT_EQ(ec_, bhttp::error::partial_message);
}

TEST_F(ReadHeadTest, HangUpBeforeAnythingIsEndOfStream) {
  Read({}, {}, /*close_after=*/true);
  EXPECT_EQ(ec_, bhttp::error::end_of_stream);
}

TEST_F(ReadHeadTest, AlreadyBufferedHeadCompletesLaterNotInline) {
  std::string head = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
  auto space = buffer_.prepare(head.size());
  std::memcpy(space.data(), head.data(), head.size());
  buffer_.commit(head.size());
  bool called = false;
  AsyncReadHead(server_, buffer_, parser_, HeadLimits{}, [&](boost::system::error_code ec, std::size_t bytes) {
    called = true;
    EXPECT_FALSE(ec);
    EXPECT_EQ(bytes, head.size());
  });
  EXPECT_FALSE(called);
  ioc_.poll();
  EXPECT_TRUE(called);
  EXPECT_EQ(buffer_.size(), 0u);
}

class ParseBufferedHeadTest : public ::testing::Test {
 protected:
  void Append(std::string_view bytes) {
    auto space = buffer_.prepare(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    buffer_.commit(bytes.size());
  }
  std::string Buffered() const {
    return std::string(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  }

  beast::flat_buffer buffer_;
  bhttp::request_parser<bhttp::buffer_body> parser_;
  std::size_t resume_ = 0;
};

TEST_F(ParseBufferedHeadTest, IncompleteHeadWaitsAndTheSearchResumes) {
  Append("GET /a HTTP/1.1\r\nHost: a\r\n");
  EXPECT_FALSE(ParseBufferedHead(buffer_, parser_, HeadLimits{}, resume_));
  EXPECT_GT(resume_, 0u);
  EXPECT_FALSE(parser_.is_header_done());
  Append("\r\nnext");
  auto head = ParseBufferedHead(buffer_, parser_, HeadLimits{}, resume_);
  ASSERT_TRUE(head);
  ASSERT_FALSE(head->ec) << head->ec.message();
  EXPECT_EQ(head->bytes, 28u);
  EXPECT_TRUE(parser_.is_header_done());
  EXPECT_EQ(parser_.get().target(), "/a");
  EXPECT_EQ(Buffered(), "next");
}

TEST_F(ParseBufferedHeadTest, RefusedHeadConsumesNothing) {
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
  Append(head);
  auto result = ParseBufferedHead(buffer_, parser_, HeadLimits{}, resume_);
  ASSERT_TRUE(result);
  ASSERT_TRUE(IsFramingError(result->ec));
  EXPECT_EQ(result->bytes, 0u);
  EXPECT_FALSE(parser_.is_header_done());
  EXPECT_EQ(Buffered(), head);
}

TEST_F(ParseBufferedHeadTest, IncompleteHeadAtTheLimitIsRefused) {
  Append("GET / HTTP/1.1\r\nX: " + std::string(100, 'x'));
  auto result = ParseBufferedHead(buffer_, parser_, HeadLimits{.max_bytes = 64}, resume_);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->ec, bhttp::error::header_limit);
}

TEST_F(ParseBufferedHeadTest, EmptyBufferWaits) {
  EXPECT_FALSE(ParseBufferedHead(buffer_, parser_, HeadLimits{}, resume_));
}

}  // namespace
}  // namespace pier::dataplane::http
