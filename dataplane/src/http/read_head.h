// AsyncReadHead: reads one HTTP message head strictly, the replacement for Beast's
// async_read_header on both sides of the proxy. ParseBufferedHead does the same for a head that
// is already in the buffer, without an asynchronous operation (and so without the post that
// AsyncReadHead needs to complete such a head outside its initiating call).
//
// Bytes are read until the head is complete (or over the limit), the raw head is checked by
// ValidateHead, a chunked body's already-buffered framing is dry-run by ProbeBufferedMessage,
// and only then is the head handed to the Beast parser, which carries on with the body as
// usual. A refused head completes with a FramingCategory() error (or Beast's header_limit),
// having consumed nothing, so nothing of it can be sent on.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include "http/body_probe.h"
#include "http/framing_error.h"
#include "http/head_validator.h"

namespace pier::dataplane::http {

// The outcome of a complete head (or of one over the limit): the error, or the head's size.
struct HeadResult {
  boost::system::error_code ec;
  std::size_t bytes = 0;
};

// Looks for a complete head in `buffer` and parses it as AsyncReadHead would (validation, the
// chunk probe, the Beast parser; the head is consumed only when accepted). Returns nothing while
// the head is incomplete and under the limit: read more, then call again with the same `resume`
// (where the search for the head's end goes on).
template <bool isRequest, class Body>
std::optional<HeadResult> ParseBufferedHead(boost::beast::flat_buffer& buffer,
                                            boost::beast::http::parser<isRequest, Body>& parser,
                                            const HeadLimits& limits, std::size_t& resume) {
  constexpr HeadKind kKind = isRequest ? HeadKind::kRequest : HeadKind::kResponse;
  std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
  std::size_t end = FindHeadEnd(data, resume);
  if (end == std::string_view::npos) {
    if (data.size() >= limits.max_bytes) return HeadResult{boost::beast::http::error::header_limit, 0};
    return std::nullopt;
  }
  if (Violation v = ValidateHead(kKind, data.substr(0, end), limits); v != Violation::kNone) {
    return HeadResult{MakeFramingError(v), 0};
  }
  boost::system::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(data.data(), end), ec);
  if (ec) return HeadResult{ec, 0};
  if (parser.chunked() && !parser.is_done()) {
    ec = ProbeBufferedMessage(kKind, data);
    if (ec) return HeadResult{ec, 0};
  }
  buffer.consume(used);
  return HeadResult{{}, end};
}

namespace detail {

template <class Stream, bool isRequest, class Body>
class ReadHeadOp {
 public:
  using Parser = boost::beast::http::parser<isRequest, Body>;

  ReadHeadOp(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser, HeadLimits limits,
             std::size_t resume)
      : stream_(stream), buffer_(buffer), parser_(parser), limits_(limits), resume_(resume) {}

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t bytes = 0) {
    switch (stage_) {
      case Stage::kStart:
        break;
      case Stage::kReading:
        if (ec) {
          // Named as Beast's own header read names them, so callers handle one vocabulary.
          if (ec == boost::asio::error::eof) {
            ec = buffer_.size() == 0 ? boost::beast::http::error::end_of_stream
                                     : boost::beast::http::error::partial_message;
          }
          self.complete(ec, 0);
          return;
        }
        buffer_.commit(bytes);
        break;
      case Stage::kPosted:
        self.complete(result_, result_bytes_);
        return;
    }
    Step(self);
  }

 private:
  enum class Stage { kStart, kReading, kPosted };
  static constexpr std::size_t kReadBytes = 4096;

  template <class Self>
  void Step(Self& self) {
    auto result = ParseBufferedHead(buffer_, parser_, limits_, resume_);
    if (!result) {
      stage_ = Stage::kReading;
      stream_.async_read_some(buffer_.prepare(kReadBytes), std::move(self));
      return;
    }
    Done(self, result->ec, result->bytes);
  }

  template <class Self>
  void Done(Self& self, boost::system::error_code ec, std::size_t bytes) {
    if (stage_ != Stage::kStart) {
      self.complete(ec, bytes);
      return;
    }
    // Decided from bytes already buffered: the handler must still not run inside the call
    // that started the operation.
    stage_ = Stage::kPosted;
    result_ = ec;
    result_bytes_ = bytes;
    boost::asio::post(stream_.get_executor(), std::move(self));
  }

  Stream& stream_;
  boost::beast::flat_buffer& buffer_;
  Parser& parser_;
  HeadLimits limits_;
  std::size_t resume_;
  Stage stage_ = Stage::kStart;
  boost::system::error_code result_;
  std::size_t result_bytes_ = 0;
};

}  // namespace detail

// Handler: void(boost::system::error_code, std::size_t head_bytes). `resume` is where the search
// for the head's end starts: 0, or what an earlier ParseBufferedHead on this buffer left.
template <class Stream, bool isRequest, class Body, class Handler>
auto AsyncReadHead(Stream& stream, boost::beast::flat_buffer& buffer,
                   boost::beast::http::parser<isRequest, Body>& parser, HeadLimits limits, Handler&& handler,
                   std::size_t resume = 0) {
  return boost::asio::async_compose<Handler, void(boost::system::error_code, std::size_t)>(
      // Asio 1.74 takes the token by lvalue reference (BOOST_ASIO_NONDEDUCED_MOVE_ARG).
      detail::ReadHeadOp<Stream, isRequest, Body>(stream, buffer, parser, limits, resume), handler, stream);
}

}  // namespace pier::dataplane::http
