// Fuzzes the HTTP front the way a client or an upstream drives it: arbitrary bytes, delivered
// in arbitrary pieces, go through FindHeadEnd, ValidateHead, Beast's parser and the buffered
// body probe, for requests and responses alike.
//
// Beyond "no crash, no leak, no undefined behaviour", one property is checked: a head the
// validator accepts is never one whose framing (Content-Length / Transfer-Encoding) Beast
// refuses. The validator must be at least as strict as Beast on framing, or the two would
// disagree about where a message ends.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "http/body_probe.h"
#include "http/head_validator.h"
#include "http/proxy_protocol.h"

namespace {

namespace bhttp = boost::beast::http;
using pier::dataplane::http::FindHeadEnd;
using pier::dataplane::http::HeadKind;
using pier::dataplane::http::HeadLimits;
using pier::dataplane::http::IsValidHostPort;
using pier::dataplane::http::ProbeBufferedMessage;
using pier::dataplane::http::ValidateHead;
using pier::dataplane::http::Violation;

template <bool isRequest>
void ParseWithBeast(std::string_view bytes, std::size_t head_size) {
  bhttp::parser<isRequest, bhttp::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(head_size + 1));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(bytes.data(), head_size), ec);
  if (ec == bhttp::error::bad_content_length || ec == bhttp::error::bad_transfer_encoding) {
    std::abort();  // the validator let through framing Beast rejects
  }
  if (ec || !parser.is_header_done()) return;
  // Drain the body through a small buffer, as the proxy streams it.
  char chunk[64];
  std::string_view rest = bytes.substr(head_size);
  while (!parser.is_done() && !rest.empty()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) return;
    if (used == 0 && parser.get().body().size == sizeof(chunk)) return;
    rest.remove_prefix(used);
  }
}

void Front(HeadKind kind, std::string_view bytes, std::size_t split) {
  // Delivered in two reads, as a slow peer would: the resumed scan must find the same end.
  std::size_t resume = 0;
  std::size_t end = FindHeadEnd(bytes.substr(0, split), resume);
  if (end == std::string_view::npos) end = FindHeadEnd(bytes, resume);
  std::size_t fresh = 0;
  if (end != FindHeadEnd(bytes, fresh)) std::abort();
  if (end == std::string_view::npos) return;

  HeadLimits limits{.max_bytes = 4096, .max_fields = 64};
  if (ValidateHead(kind, bytes.substr(0, end), limits) != Violation::kNone) return;
  (void)ProbeBufferedMessage(kind, bytes);
  if (kind == HeadKind::kRequest) {
    ParseWithBeast<true>(bytes, end);
  } else {
    ParseWithBeast<false>(bytes, end);
  }
}

// --proxy-protocol: the header parser must agree with itself when the bytes come in pieces,
// never ask for bytes past the header's end, and never claim more bytes than it was given.
void ProxyFront(std::string_view bytes, std::size_t split) {
  using pier::dataplane::http::ParseProxyHeader;
  using Status = pier::dataplane::http::ProxyHeader::Status;
  const auto whole = ParseProxyHeader(bytes);
  if (whole.status == Status::kDone) {
    if (whole.length == 0 || whole.length > bytes.size()) std::abort();
    const auto exact = ParseProxyHeader(bytes.substr(0, whole.length));
    if (exact.status != Status::kDone || exact.length != whole.length || exact.source != whole.source) std::abort();
    if (split < whole.length) {
      const auto piece = ParseProxyHeader(bytes.substr(0, split));
      if (piece.status != Status::kNeedMore || split + piece.more > whole.length) std::abort();
    }
  } else if (whole.status == Status::kNeedMore && whole.more == 0) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the split point and the kind; the rest is the peer's bytes.
  std::size_t split = data[0];
  HeadKind kind = (data[0] & 1) ? HeadKind::kResponse : HeadKind::kRequest;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  Front(kind, bytes, std::min(split, bytes.size()));
  (void)IsValidHostPort(bytes.substr(0, std::min<std::size_t>(bytes.size(), 300)));
  ProxyFront(bytes, std::min(split, bytes.size()));
  return 0;
}
