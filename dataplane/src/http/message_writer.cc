#include "http/message_writer.h"

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <iterator>

#include "http/ascii.h"

namespace pier::dataplane::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

void AppendVersion(unsigned version, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10 % 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

// Beast keeps each field as one line, "name: value\r\n", with name_string() and value() views
// into it (the serializer writes that line as it is). When the views show that layout, the
// line is appended in one piece; otherwise in four.
std::string_view WholeLine(const bhttp::fields::value_type& field) noexcept {
  std::string_view name = field.name_string();
  std::string_view value = field.value();
  if (value.data() != name.data() + name.size() + 2) return {};
  std::string_view line(name.data(), name.size() + 2 + value.size() + 2);
  if (line.substr(name.size(), 2) != ": " || !line.ends_with(kCrlf)) return {};
  return line;
}

void AppendField(const bhttp::fields::value_type& field, std::string& out) {
  if (std::string_view line = WholeLine(field); !line.empty()) {
    out += line;
    return;
  }
  out += field.name_string();
  out += ": ";
  out += field.value();
  out += kCrlf;
}

void AppendField(std::string_view name, std::string_view value, std::string& out) {
  out += name;
  out += ": ";
  out += value;
  out += kCrlf;
}

void AppendFields(const bhttp::fields& fields, std::string& out) {
  for (const auto& field : fields) AppendField(field, out);
  out += kCrlf;
}

// Whether `field` is one the proxy writes itself for `forwarded` (the client's copy is left out).
bool IsClientCertificateField(std::string_view name) noexcept {
  return name.size() >= 15 && (name[0] == 's' || name[0] == 'S') &&
         (IEquals(name, "ssl-client-verify") || IEquals(name, "ssl-client-subject-dn") ||
          IEquals(name, "ssl-client-issuer-dn") || IEquals(name, "ssl-client-cert"));
}

bool ReplacedByForwarding(const bhttp::fields::value_type& field, const ForwardedRequest& forwarded) noexcept {
  if (field.name() == bhttp::field::forwarded) return !forwarded.forwarded_trusted;
  if (field.name() != bhttp::field::unknown) return false;  // none of the X- names is one of Beast's
  std::string_view name = field.name_string();
  if (forwarded.client_certificate != nullptr && IsClientCertificateField(name)) return true;
  if (name.size() < 9 || (name[0] != 'x' && name[0] != 'X') || name[1] != '-') return false;
  return IEquals(name, "x-forwarded-for") || IEquals(name, "x-real-ip") || IEquals(name, "x-forwarded-proto") ||
         IEquals(name, "x-forwarded-host") || (!forwarded.request_id_kept && IEquals(name, "x-request-id")) ||
         (!forwarded.prefix.empty() && IEquals(name, "x-forwarded-prefix"));
}

void AppendRequestLine(const bhttp::request_header<>& head, std::string& out) {
  out += head.method_string();
  out += ' ';
  out += head.target();
  out += ' ';
  AppendVersion(head.version(), out);
  out += kCrlf;
}

void AppendStatusLine(const bhttp::response_header<>& head, std::string& out) {
  AppendVersion(head.version(), out);
  out += ' ';
  const unsigned status = head.result_int();
  out += static_cast<char>('0' + status / 100 % 10);
  out += static_cast<char>('0' + status / 10 % 10);
  out += static_cast<char>('0' + status % 10);
  out += ' ';
  std::string_view reason = head.reason();
  out += reason.empty() ? bhttp::obsolete_reason(static_cast<bhttp::status>(status)) : reason;
  out += kCrlf;
}

// The bytes the fields take as "name: value\r\n" lines plus `extra`, reserved in `out` at once:
// grown from empty, a head of a few hundred bytes would be allocated and copied five times or
// more (a new connection's head string starts empty).
void ReserveHead(const bhttp::fields& fields, std::size_t extra, std::string& out) {
  std::size_t bytes = extra + 2 * kCrlf.size();
  for (const auto& field : fields) bytes += field.name_string().size() + field.value().size() + 4;
  out.reserve(out.size() + bytes);
}

// Room for the request or status line beyond the target or reason.
constexpr std::size_t kStartLineBytes = 32;

}  // namespace

void AppendHead(const bhttp::request_header<>& head, std::string& out) {
  ReserveHead(head, kStartLineBytes + head.method_string().size() + head.target().size(), out);
  AppendRequestLine(head, out);
  AppendFields(head, out);
}

void AppendHead(const bhttp::request_header<>& head, const ForwardedRequest& forwarded, std::string& out) {
  // The forwarding fields: names, separators and the values that vary.
  constexpr std::size_t kForwardingBytes = 128;
  constexpr std::size_t kUpgradeBytes = 48;
  ReserveHead(head,
              kStartLineBytes + head.method_string().size() + head.target().size() + kForwardingBytes +
                  forwarded.upstream_host.size() + forwarded.forwarded_for.size() + forwarded.client.size() +
                  forwarded.prefix.size() + forwarded.request_id.size() + (forwarded.upgrade ? kUpgradeBytes : 0) +
                  (forwarded.client_certificate != nullptr ? forwarded.client_certificate->size() : 0),
              out);
  AppendRequestLine(head, out);
  std::string_view host;
  for (const auto& field : head) {
    if (field.name() == bhttp::field::host) {
      const bool first = host.empty();
      if (first) host = field.value();
      if (!forwarded.upstream_host.empty()) {
        if (first) AppendField("Host", forwarded.upstream_host, out);  // in the client's place
        continue;
      }
    }
    if (!ReplacedByForwarding(field, forwarded)) AppendField(field, out);
  }
  if (forwarded.upgrade) {
    AppendField("Connection", "Upgrade", out);
    AppendField("Upgrade", "websocket", out);
  }
  AppendField("X-Forwarded-For", forwarded.forwarded_for, out);
  AppendField("X-Real-IP", forwarded.client, out);
  AppendField("X-Forwarded-Proto", forwarded.tls ? "https" : "http", out);
  if (!host.empty()) AppendField("X-Forwarded-Host", host, out);
  if (!forwarded.prefix.empty()) AppendField("X-Forwarded-Prefix", forwarded.prefix, out);
  if (!forwarded.request_id_kept) AppendField("X-Request-ID", forwarded.request_id, out);
  if (forwarded.client_certificate != nullptr) out += *forwarded.client_certificate;
  out += kCrlf;
}

void AppendHead(const bhttp::response_header<>& head, std::string& out) {
  ReserveHead(head, kStartLineBytes + head.reason().size(), out);
  AppendStatusLine(head, out);
  AppendFields(head, out);
}

void AppendHead(const bhttp::response_header<>& head, std::string_view connection, std::string& out) {
  AppendHead(head, connection, {}, out);
}

void AppendHead(const bhttp::response_header<>& head, std::string_view connection, std::string_view upgrade,
                std::string& out) {
  ReserveHead(head, kStartLineBytes + head.reason().size() + connection.size() + upgrade.size() + 32, out);
  AppendStatusLine(head, out);
  for (const auto& field : head) AppendField(field, out);
  AppendField("Connection", connection, out);
  if (!upgrade.empty()) AppendField("Upgrade", upgrade, out);
  out += kCrlf;
}

void NormaliseContentLength(bhttp::fields& fields, std::uint64_t length) {
  char digits[20];
  const char* end = std::to_chars(digits, digits + sizeof digits, length).ptr;
  const std::string_view canonical(digits, static_cast<std::size_t>(end - digits));
  auto [first, last] = fields.equal_range(bhttp::field::content_length);
  if (first != last && std::next(first) == last && first->value() == canonical) return;
  fields.set(bhttp::field::content_length, canonical);
}

BodyFramer::Buffers BodyFramer::Frame(std::string_view head, const char* data, std::size_t size, bool last) noexcept {
  Buffers buffers;
  buffers[0] = asio::buffer(head.data(), head.size());
  if (!chunked_) {
    buffers[2] = asio::buffer(data, size);
    return buffers;
  }
  if (size != 0) {
    static constexpr char kHex[] = "0123456789abcdef";
    char digits[16];
    std::size_t count = 0;
    for (std::size_t rest = size; rest != 0; rest >>= 4) digits[count++] = kHex[rest & 0xf];
    std::size_t at = 0;
    while (count != 0) size_line_[at++] = digits[--count];
    size_line_[at++] = '\r';
    size_line_[at++] = '\n';
    buffers[1] = asio::buffer(size_line_, at);
    buffers[2] = asio::buffer(data, size);
    buffers[3] = asio::buffer(kCrlf.data(), kCrlf.size());
  }
  if (last) buffers[4] = asio::buffer(kLastChunk.data(), kLastChunk.size());
  return buffers;
}

}  // namespace pier::dataplane::http
