#include "http/head_validator.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "http/ascii.h"

namespace pier::dataplane::http {

namespace {

struct ViolationInfo {
  unsigned status;
  std::string_view reason;
};

constexpr std::array<ViolationInfo, static_cast<std::size_t>(Violation::kCount)> kViolations = {{
    {200, "valid"},
    {431, "request header too large"},
    {431, "too many header fields"},
    {400, "bare CR in the message head"},
    {400, "line not terminated by CRLF"},
    {400, "malformed request line"},
    {400, "invalid method"},
    {400, "invalid request target"},
    {400, "invalid absolute-form request target"},
    {400, "malformed HTTP version"},
    {505, "HTTP version not supported"},
    {501, "CONNECT is not supported"},
    {400, "malformed status line"},
    {400, "obsolete line folding in header"},
    {400, "whitespace before the colon of a header field"},
    {400, "invalid header field name"},
    {400, "invalid character in a header field value"},
    {400, "invalid Content-Length"},
    {400, "more than one Content-Length"},
    {400, "both Content-Length and Transfer-Encoding"},
    {400, "Transfer-Encoding in an HTTP/1.0 message"},
    {400, "malformed Transfer-Encoding"},
    {400, "chunked is not the final transfer coding, or appears twice"},
    {501, "transfer coding not supported"},
    {400, "missing Host header"},
    {400, "duplicate Host header"},
    {400, "invalid Host header"},
    {400, "websocket upgrade on a method other than GET"},
}};

constexpr bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAlpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
constexpr bool IsHex(unsigned char c) { return IsDigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

// tchar (RFC 9110 5.6.2).
constexpr bool IsTokenChar(unsigned char c) {
  if (IsDigit(c) || IsAlpha(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// field-vchar / SP / HTAB (obs-text allowed: RFC 9110 5.5 keeps it for old content).
constexpr bool IsFieldValueChar(unsigned char c) { return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f); }

// Every byte of every head goes through one of these: a table lookup per byte instead of a
// chain of comparisons.
template <bool (*Is)(unsigned char)>
constexpr std::array<bool, 256> MakeTable() {
  std::array<bool, 256> table{};
  for (unsigned c = 0; c < table.size(); ++c) table[c] = Is(static_cast<unsigned char>(c));
  return table;
}
constexpr auto kTokenChars = MakeTable<IsTokenChar>();
constexpr auto kFieldValueChars = MakeTable<IsFieldValueChar>();

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!kTokenChars[c]) return false;
  }
  return true;
}

bool AllFieldValueChars(std::string_view s) {
  for (unsigned char c : s) {
    if (!kFieldValueChars[c]) return false;
  }
  return true;
}

// The first CR not followed by LF, or LF not preceded by CR, if any.
Violation CheckLineEndings(std::string_view head) {
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r' && (i + 1 == head.size() || head[i + 1] != '\n')) return Violation::kBareCarriageReturn;
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) return Violation::kBareLineFeed;
  }
  return Violation::kNone;
}


std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `each` with every non-empty, trimmed element of a comma-separated list (RFC 9110
// 5.6.1: empty elements are ignored, as Beast's token_list does).
template <class Each>
void ForEachListElement(std::string_view list, Each&& each) {
  while (true) {
    auto comma = list.find(',');
    auto element = TrimOws(list.substr(0, comma));
    if (!element.empty()) each(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

bool ParseDecimal(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  uint64_t value = 0;
  for (unsigned char c : s) {
    if (!IsDigit(c)) return false;
    if (value > (std::numeric_limits<uint64_t>::max() - (c - '0')) / 10) return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

// "HTTP/" DIGIT "." DIGIT; `minor` set for HTTP/1.x, other majors are unsupported.
Violation CheckVersion(std::string_view version, bool& http10) {
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !IsDigit(version[5]) || version[6] != '.' ||
      !IsDigit(version[7])) {
    return Violation::kBadVersion;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return Violation::kUnsupportedVersion;
  http10 = version[7] == '0';
  return Violation::kNone;
}

bool IsRegNameChar(unsigned char c) {
  if (IsDigit(c) || IsAlpha(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                                                   // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',':  // sub-delims
    case ';': case '=':
      return true;
    default:
      return false;
  }
}

// origin-form, absolute-form (http/https only, no userinfo), asterisk-form for OPTIONS.
Violation CheckTarget(std::string_view method, std::string_view target) {
  if (target.empty()) return Violation::kBadTarget;
  for (unsigned char c : target) {
    // Visible ASCII only: spaces, controls and raw bytes >= 0x80 are not URI characters, and
    // '#' starts a fragment, which a request never carries.
    if (c <= 0x20 || c >= 0x7f || c == '#') return Violation::kBadTarget;
  }
  if (method == "CONNECT") return Violation::kConnectNotSupported;
  if (target.front() == '/') return Violation::kNone;
  if (target == "*") return method == "OPTIONS" ? Violation::kNone : Violation::kBadTarget;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && IEquals(target.substr(0, scheme.size()), scheme)) {
      auto rest = target.substr(scheme.size());
      auto authority = rest.substr(0, rest.find_first_of("/?"));
      if (authority.find('@') != std::string_view::npos) return Violation::kBadAbsoluteTarget;  // userinfo
      bool empty_host = authority.empty() || authority.front() == ':';
      if (empty_host || !IsValidHostPort(authority)) return Violation::kBadAbsoluteTarget;
      return Violation::kNone;
    }
  }
  return Violation::kBadTarget;
}

Violation CheckRequestLine(std::string_view line, std::string_view& method, bool& http10) {
  auto first_space = line.find(' ');
  if (first_space == std::string_view::npos) return Violation::kBadRequestLine;
  auto second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return Violation::kBadRequestLine;
  method = line.substr(0, first_space);
  if (!IsToken(method)) return Violation::kBadMethod;
  if (auto v = CheckTarget(method, line.substr(first_space + 1, second_space - first_space - 1)); v != Violation::kNone) {
    return v;
  }
  return CheckVersion(line.substr(second_space + 1), http10);
}

Violation CheckStatusLine(std::string_view line, bool& http10) {
  if (line.size() < 12 || line[8] != ' ') return Violation::kBadStatusLine;
  if (auto v = CheckVersion(line.substr(0, 8), http10); v != Violation::kNone) {
    return v == Violation::kBadVersion ? Violation::kBadStatusLine : v;
  }
  auto code = line.substr(9, 3);
  if (!IsDigit(code[0]) || !IsDigit(code[1]) || !IsDigit(code[2]) || code[0] < '1' || code[0] > '5') {
    return Violation::kBadStatusLine;
  }
  if (line.size() == 12) return Violation::kNone;  // no reason phrase, not even the space: tolerated
  if (line[12] != ' ') return Violation::kBadStatusLine;
  return AllFieldValueChars(line.substr(13)) ? Violation::kNone : Violation::kBadStatusLine;
}

// What the framing rules need from the fields, gathered in one pass.
struct FieldSummary {
  std::size_t content_lengths = 0;
  bool content_length_invalid = false;
  std::size_t transfer_encodings = 0;
  std::size_t codings = 0;
  std::size_t chunked = 0;
  bool chunked_last = false;
  bool unknown_coding = false;
  bool coding_malformed = false;
  std::size_t hosts = 0;
  bool host_invalid = false;
  bool upgrade_websocket = false;
  bool connection_upgrade = false;
};

bool IsKnownCoding(std::string_view coding) {
  for (std::string_view known : {"gzip", "x-gzip", "deflate", "compress", "x-compress"}) {
    if (IEquals(coding, known)) return true;
  }
  return false;
}

void Summarize(std::string_view name, std::string_view value, FieldSummary& summary) {
  if (IEquals(name, "content-length")) {
    ++summary.content_lengths;
    uint64_t ignored = 0;
    if (!ParseDecimal(value, ignored)) summary.content_length_invalid = true;
  } else if (IEquals(name, "transfer-encoding")) {
    ++summary.transfer_encodings;
    const std::size_t codings_before = summary.codings;
    ForEachListElement(value, [&](std::string_view element) {
      // transfer-coding = token *( OWS ";" OWS transfer-parameter ); chunked takes none.
      auto coding = TrimOws(element.substr(0, element.find(';')));
      bool has_parameters = coding.size() != element.size();
      ++summary.codings;
      summary.chunked_last = false;
      if (!IsToken(coding)) {
        summary.coding_malformed = true;
      } else if (IEquals(coding, "chunked")) {
        ++summary.chunked;
        summary.chunked_last = true;
        if (has_parameters) summary.coding_malformed = true;
      } else if (!IsKnownCoding(coding)) {
        summary.unknown_coding = true;
      }
    });
    // A field line with no coding at all (Beast refuses it too) even after a valid one.
    if (summary.codings == codings_before) summary.coding_malformed = true;
  } else if (IEquals(name, "host")) {
    ++summary.hosts;
    if (!IsValidHostPort(value)) summary.host_invalid = true;
  } else if (IEquals(name, "upgrade")) {
    ForEachListElement(value, [&](std::string_view protocol) {
      if (IEquals(protocol, "websocket")) summary.upgrade_websocket = true;
    });
  } else if (IEquals(name, "connection")) {
    ForEachListElement(value, [&](std::string_view option) {
      if (IEquals(option, "upgrade")) summary.connection_upgrade = true;
    });
  }
}

Violation CheckFraming(HeadKind kind, const FieldSummary& s, bool http10, std::string_view method) {
  if (s.content_length_invalid) return Violation::kBadContentLength;
  // Identical repeated values are allowed by RFC 9112 6.3 but never sent by a correct client,
  // and every other hop would have to agree on collapsing them: refusing is the safe reading.
  if (s.content_lengths > 1) return Violation::kDuplicateContentLength;
  if (s.transfer_encodings > 0) {
    if (s.content_lengths > 0) return Violation::kContentLengthWithTransferEncoding;
    if (http10) return Violation::kTransferEncodingOnHttp10;
    if (s.codings == 0 || s.coding_malformed) return Violation::kBadTransferEncoding;
    if (s.unknown_coding) return Violation::kUnsupportedTransferCoding;
    if (s.chunked != 1 || !s.chunked_last) return Violation::kChunkedNotLast;
    // gzip/deflate under chunked: valid HTTP, but the proxy re-frames bodies as plain chunked
    // and would silently drop the inner coding.
    if (s.codings != 1) return Violation::kUnsupportedTransferCoding;
  }
  if (kind == HeadKind::kResponse) return Violation::kNone;
  if (s.hosts > 1) return Violation::kDuplicateHost;
  if (s.hosts == 0 && !http10) return Violation::kMissingHost;
  if (s.host_invalid) return Violation::kBadHost;
  // HTTP/1.0 has no Upgrade (RFC 9110 7.8: ignored there); WebSocket is GET only (RFC 6455 4.1).
  if (!http10 && s.upgrade_websocket && s.connection_upgrade && method != "GET") return Violation::kUpgradeNotGet;
  return Violation::kNone;
}

Violation CheckField(std::string_view line, FieldSummary& summary) {
  if (line.front() == ' ' || line.front() == '\t') return Violation::kObsFold;
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return Violation::kBadFieldName;
  auto name = line.substr(0, colon);
  if (name.back() == ' ' || name.back() == '\t') return Violation::kSpaceBeforeColon;
  if (!IsToken(name)) return Violation::kBadFieldName;
  auto value = TrimOws(line.substr(colon + 1));
  if (!AllFieldValueChars(value)) return Violation::kBadFieldValue;
  Summarize(name, value, summary);
  return Violation::kNone;
}

}  // namespace

unsigned RequestStatusFor(Violation violation) noexcept {
  auto index = static_cast<std::size_t>(violation);
  return index < kViolations.size() ? kViolations[index].status : 400;
}

std::string_view ReasonFor(Violation violation) noexcept {
  auto index = static_cast<std::size_t>(violation);
  return index < kViolations.size() ? kViolations[index].reason : "malformed message head";
}

std::size_t FindHeadEnd(std::string_view bytes, std::size_t& resume) noexcept {
  // An empty first line is a head of its own: it is invalid, and saying so now beats waiting.
  if (bytes.starts_with("\r\n")) return 2;
  if (bytes.starts_with("\n")) return 1;
  std::size_t from = resume;
  while (true) {
    auto lf = bytes.find('\n', from);
    if (lf == std::string_view::npos || lf + 1 >= bytes.size()) break;
    if (bytes[lf + 1] == '\n') return lf + 2;
    if (bytes[lf + 1] == '\r') {
      if (lf + 2 >= bytes.size()) break;
      if (bytes[lf + 2] == '\n') return lf + 3;
    }
    from = lf + 1;
  }
  // The terminator may straddle the next read: look again from two bytes back.
  resume = bytes.size() >= 2 ? bytes.size() - 2 : 0;
  return std::string_view::npos;
}

namespace {

// Splits the head on CRLF and checks each line. A CR or LF anywhere but in a CRLF lands inside
// some line, where every byte is checked against a class without CR and LF (token, target,
// version, field value), so a head that passes here has clean line endings too.
Violation CheckLines(HeadKind kind, std::string_view head, const HeadLimits& limits) {
  if (!head.ends_with("\r\n\r\n")) return kind == HeadKind::kRequest ? Violation::kBadRequestLine
                                                                      : Violation::kBadStatusLine;

  auto rest = head.substr(0, head.size() - 2);  // every line below ends with CRLF
  auto next_line = [&rest] {
    auto end = rest.find("\r\n");
    auto line = rest.substr(0, end);
    rest.remove_prefix(end + 2);
    return line;
  };

  bool http10 = false;
  std::string_view method;
  Violation start = kind == HeadKind::kRequest ? CheckRequestLine(next_line(), method, http10)
                                               : CheckStatusLine(next_line(), http10);
  if (start != Violation::kNone) return start;

  FieldSummary summary;
  std::size_t fields = 0;
  while (!rest.empty()) {
    auto line = next_line();
    if (++fields > limits.max_fields) return Violation::kTooManyFields;
    if (line.empty()) return Violation::kBadFieldName;  // only from a caller that skipped FindHeadEnd
    if (auto v = CheckField(line, summary); v != Violation::kNone) return v;
  }
  return CheckFraming(kind, summary, http10, method);
}

}  // namespace

Violation ValidateHead(HeadKind kind, std::string_view head, const HeadLimits& limits) noexcept {
  if (head.size() > limits.max_bytes) return Violation::kHeadTooLarge;
  Violation violation = CheckLines(kind, head, limits);
  if (violation == Violation::kNone) return violation;
  // A bare CR or LF is reported as such, wherever it is and whatever else is wrong: it is what
  // request smuggling through line endings looks like. Only a refused head pays for the scan.
  if (auto endings = CheckLineEndings(head); endings != Violation::kNone) return endings;
  return violation;
}

bool IsValidHostPort(std::string_view value) noexcept {
  std::string_view host = value;
  std::string_view port;
  if (!value.empty() && value.front() == '[') {
    auto close = value.find(']');
    if (close == std::string_view::npos) return false;
    host = value.substr(0, close + 1);
    auto after = value.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
    }
    // IPv6address / IPvFuture: hex digits, colons, dots (embedded IPv4), "v" and a few
    // unreserved characters. The exact grammar is left to the routing lookup, which simply
    // finds no such host; what matters here is that nothing else gets through.
    auto inner = host.substr(1, host.size() - 2);
    if (inner.empty()) return false;
    for (unsigned char c : inner) {
      if (!IsHex(c) && c != ':' && c != '.' && (c | 0x20) != 'v' && c != '-' && c != '_' && c != '~') return false;
    }
  } else {
    auto colon = value.find(':');
    if (colon != std::string_view::npos) {
      host = value.substr(0, colon);
      port = value.substr(colon + 1);
    }
    for (std::size_t i = 0; i < host.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(host[i]);
      if (c == '%') {
        if (i + 2 >= host.size() || !IsHex(host[i + 1]) || !IsHex(host[i + 2])) return false;
        i += 2;
        continue;
      }
      if (!IsRegNameChar(c)) return false;
    }
  }
  if (port.size() > 5) return false;
  for (unsigned char c : port) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

}  // namespace pier::dataplane::http
