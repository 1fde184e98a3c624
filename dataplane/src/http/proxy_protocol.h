// The PROXY protocol header (versions 1 and 2, as HAProxy specifies them) that a TCP load
// balancer (an AWS NLB, HAProxy's send-proxy) puts before the client's first byte, so that the
// proxy behind it learns the client's address. Only parsing lives here: the session reads the
// bytes (http_session.cc, --proxy-protocol).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace pier::dataplane::http {

// Longest header Pier accepts: a version 1 line is at most 107 bytes; version 2 is 16 bytes
// and its addresses plus TLVs, which load balancers keep to a few hundred bytes.
inline constexpr std::size_t kMaxProxyHeaderBytes = 16 + 2048;

struct ProxyHeader {
  enum class Status {
    kNeedMore,  // a valid beginning: read `more` bytes (at least; exactly for version 2)
    kInvalid,   // not a PROXY header, or a malformed one: close the connection
    kDone,      // `length` bytes are the header
  };
  Status status = Status::kNeedMore;
  std::size_t more = 0;    // kNeedMore
  std::size_t length = 0;  // kDone
  // kDone: the client's address, or nullopt when the header names none (version 1 UNKNOWN,
  // version 2 LOCAL such as a load balancer's health check, or an address family other than
  // TCP over IPv4/IPv6): the connection's own peer stands.
  std::optional<boost::asio::ip::address> source;
  const char* error = "";  // kInvalid: why, for the log
};

// Parses the start of a connection's bytes. Never reads past the header: `length` counts only
// the header's own bytes, so what follows (a request, or a TLS ClientHello) is left alone.
ProxyHeader ParseProxyHeader(std::string_view bytes) noexcept;

}  // namespace pier::dataplane::http
