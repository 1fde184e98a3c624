// Strict RFC 9112 checks on a raw HTTP/1.x message head (start line + header fields), done on
// the bytes before Beast parses them.
//
// Beast 1.74's parser is lenient where a proxy must not be, because whatever a proxy accepts
// and re-frames differently from the next hop is a request-smuggling vector. Measured against
// Beast 1.74 (basic_parser::put), it accepts: obs-fold continuation lines (folded silently);
// repeated identical Content-Length fields and "5, 5" lists; Transfer-Encoding with a coding it
// does not know ("foo"), with chunked not last ("chunked, gzip"), chunked twice ("chunked,
// chunked") and, when the coding is not chunked, together with Content-Length; a second
// Transfer-Encoding field that silently drops the first coding; missing, repeated and
// syntactically invalid Host; bytes >= 0x80 in the request target; any 3-digit status. It
// already rejects bare CR, bare LF, whitespace before the colon, NUL/DEL in values and malformed
// chunk sizes ("0x5", "+5", "5_0", overflow), so those are checked here again only because the
// head must be judged as a whole before anything is sent on.
//
// Everything here is a pure function of the bytes: unit-tested and fuzzed (tests/fuzz/http).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pier::dataplane::http {

enum class HeadKind : uint8_t { kRequest, kResponse };

// Why a head was refused. The order is only for the name table.
enum class Violation : uint8_t {
  kNone,
  kHeadTooLarge,
  kTooManyFields,
  kBareCarriageReturn,
  kBareLineFeed,
  kBadRequestLine,
  kBadMethod,
  kBadTarget,
  kBadAbsoluteTarget,
  kBadVersion,
  kUnsupportedVersion,
  kConnectNotSupported,
  kBadStatusLine,
  kObsFold,
  kSpaceBeforeColon,
  kBadFieldName,
  kBadFieldValue,
  kBadContentLength,
  kDuplicateContentLength,
  kContentLengthWithTransferEncoding,
  kTransferEncodingOnHttp10,
  kBadTransferEncoding,
  kChunkedNotLast,
  kUnsupportedTransferCoding,
  kMissingHost,
  kDuplicateHost,
  kBadHost,
  kUpgradeNotGet,
  kCount
};

// The answer to a client whose request head has this violation (400, 431, 501, 505) and a
// one-line reason. A response head with any violation is the upstream's fault: always 502.
unsigned RequestStatusFor(Violation violation) noexcept;
std::string_view ReasonFor(Violation violation) noexcept;

struct HeadLimits {
  std::size_t max_bytes = 16 * 1024;  // start line + fields + the empty line
  std::size_t max_fields = 128;
};

// Where the head ends in `bytes`: the offset just past the first empty line (CRLF or, so a bare
// LF head is judged instead of waited for, LF), or npos. `resume` carries the scan position
// between calls as more bytes arrive, so a head trickled byte by byte is scanned once; start it
// at 0 for each message.
std::size_t FindHeadEnd(std::string_view bytes, std::size_t& resume) noexcept;

// Validates one complete head as returned by FindHeadEnd (the terminating empty line included).
Violation ValidateHead(HeadKind kind, std::string_view head, const HeadLimits& limits) noexcept;

// A Host value (or absolute-form authority): uri-host [ ":" port ] per RFC 3986, where uri-host
// is an IP-literal in brackets, or a reg-name (letters, digits, "-._~", sub-delims, %XX).
bool IsValidHostPort(std::string_view value) noexcept;

}  // namespace pier::dataplane::http
