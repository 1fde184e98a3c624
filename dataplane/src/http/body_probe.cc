#include "http/body_probe.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <cstdint>
#include <limits>

namespace pier::dataplane::http {

namespace bhttp = boost::beast::http;
using boost::system::error_code;

namespace {

// Accepts every callback and keeps nothing: only the grammar of basic_parser runs.
template <bool isRequest>
class DiscardingParser final : public bhttp::basic_parser<isRequest> {
  void on_request_impl(bhttp::verb, std::string_view, std::string_view, int, error_code&) override {}
  void on_response_impl(int, std::string_view, int, error_code&) override {}
  void on_field_impl(bhttp::field, std::string_view, std::string_view, error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(std::string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, std::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, std::string_view body, error_code&) override { return body.size(); }
  void on_finish_impl(error_code&) override {}
};

template <bool isRequest>
error_code Probe(std::string_view bytes) noexcept {
  DiscardingParser<isRequest> parser;
  parser.eager(true);
  parser.header_limit(std::numeric_limits<std::uint32_t>::max());
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  while (!bytes.empty() && !parser.is_done()) {
    error_code ec;
    std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec == bhttp::error::need_more) return {};
    if (ec) return ec;
    if (used == 0) return {};
    bytes.remove_prefix(used);
  }
  return {};
}

}  // namespace

error_code ProbeBufferedMessage(HeadKind kind, std::string_view bytes) noexcept {
  return kind == HeadKind::kRequest ? Probe<true>(bytes) : Probe<false>(bytes);
}

}  // namespace pier::dataplane::http
