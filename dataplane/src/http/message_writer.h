// The proxied exchange's outgoing messages, written by hand: the head of the request sent
// upstream and of the response sent to the client, and the framing of their bodies.
//
// Beast's serializer produces the same bytes, but through a chain of buffer-sequence views
// (buffers_cat_view over the fields' writer, buffers_prefix_view, buffers_suffix) walked
// several times per write; under keep-alive load that walk was the largest user-space cost
// of a proxied request. Here the head is appended to a string once and each write is at most
// five plain buffers. The parsers and their messages stay Beast's.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/forwarded.h"

namespace pier::dataplane::http {

// "METHOD target HTTP/x.y\r\n", every field as "Name: value\r\n" in order, then "\r\n".
void AppendHead(const boost::beast::http::request_header<>& head, std::string& out);
// The head of a proxied request as the upstream gets it: as above, but the client's own
// X-Forwarded-For, X-Real-IP, X-Forwarded-Proto and X-Forwarded-Host (X-Request-ID unless it
// is kept, Forwarded unless the peer is trusted) are left out, and `forwarded`'s values follow
// the other fields in that order (X-Forwarded-Host only when the request has a Host). With
// forwarded.upstream_host set, that is the Host sent, in the place of the client's, which still
// goes on in X-Forwarded-Host. forwarded.client_certificate's lines come last, in place of the
// client's own ssl-client-* fields. With forwarded.upgrade, "Connection: Upgrade" and
// "Upgrade: websocket" come right after the client's fields.
void AppendHead(const boost::beast::http::request_header<>& head, const ForwardedRequest& forwarded,
                std::string& out);
// "HTTP/x.y status reason\r\n", the fields, "\r\n". The reason is the message's own, or the
// standard phrase for the status when it has none.
void AppendHead(const boost::beast::http::response_header<>& head, std::string& out);
// The same with "Connection: <connection>" after the fields, for a head whose own Connection
// fields are gone (RemoveHopByHop): the proxy's answer to the client, written rather than
// inserted into the field container.
void AppendHead(const boost::beast::http::response_header<>& head, std::string_view connection, std::string& out);
// The same with "Upgrade: <upgrade>" after that ("" = none): a 101's head.
void AppendHead(const boost::beast::http::response_header<>& head, std::string_view connection,
                std::string_view upgrade, std::string& out);

// Content-Length as one field with the plain decimal `length` (what the parser made of the
// message's own). A field that already is that is left alone, which spares an erase and an
// insert (an allocation) per message; anything else ("007", several lines) is replaced.
void NormaliseContentLength(boost::beast::http::fields& fields, std::uint64_t length);

// The body of a message whose head went out through AppendHead: either as it is (a
// Content-Length body, or one delimited by the connection's close) or as chunks.
class BodyFramer {
 public:
  // Head, chunk-size line, data, the data's CRLF, the last chunk: unused ones are empty.
  using Buffers = std::array<boost::asio::const_buffer, 5>;

  void Reset(bool chunked) noexcept { chunked_ = chunked; }
  bool chunked() const noexcept { return chunked_; }

  // The bytes for one piece of the body (`size` may be 0), led by `head` (empty once the head
  // is out) and, when `last`, followed by the end of the body (the last chunk when chunked).
  // The buffers point into `head`, `data` and this object until the write completes.
  Buffers Frame(std::string_view head, const char* data, std::size_t size, bool last) noexcept;

 private:
  bool chunked_ = false;
  char size_line_[20] = {};  // hex digits and CRLF: 16 + 2 at most
};

}  // namespace pier::dataplane::http
