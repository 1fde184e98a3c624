// The server name (SNI) of a TLS ClientHello, read from the connection's first bytes before
// any TLS library sees them, for ssl-passthrough: by that name the HTTPS listener either hands
// the raw bytes to a backend unread (tls/passthrough.h) or lets OpenSSL terminate TLS as usual.
//
// Only parsing lives here, strictly and without trusting a length: the records (content type
// handshake, version 3.x, 1 to 2^14 bytes each) are walked, the first handshake message is
// reassembled when it spans several records (copied only then), and the ClientHello's fields
// are checked up to its extensions, of which only server_name is read. Anything else is
// kInvalid as soon as a byte shows it, and the caller leaves the connection to OpenSSL, which
// takes or refuses it on its own terms.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pier::dataplane::tls {

// The most bytes read while looking for the end of a ClientHello; a longer one is not examined.
inline constexpr std::size_t kMaxClientHelloBytes = 16 * 1024;

struct ClientHello {
  enum class Status {
    kNeedMore,  // a valid beginning: read more and parse all of it again
    kDone,      // a whole ClientHello; what follows it is left alone
    kInvalid,   // not a TLS handshake, a malformed ClientHello, or one longer than the limit
  };
  Status status = Status::kNeedMore;
  std::string server_name;  // kDone: the SNI host_name, lowercased; "" when the hello has no SNI
  std::string error;        // kInvalid: why, for a debug log line
};

// bytes: everything received on the connection so far, from its first byte. A ClientHello
// that, with its record headers, cannot end within kMaxClientHelloBytes is kInvalid as soon
// as its length says so. Copies at most the one handshake message, and only when it spans
// records; never throws.
ClientHello ParseClientHello(std::string_view bytes) noexcept;

}  // namespace pier::dataplane::tls
