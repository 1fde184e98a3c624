#include "tls/client_hello.h"

#include <array>
#include <cstdint>
#include <new>

namespace pier::dataplane::tls {

namespace {

// RFC 8446 section 5.1: TLSPlaintext, and the limit on a fragment.
constexpr unsigned kHandshakeContentType = 22;
constexpr unsigned kRecordMajorVersion = 3;
constexpr std::size_t kRecordHeaderBytes = 5;
constexpr std::size_t kMaxRecordBytes = std::size_t{1} << 14;
// Section 4: Handshake, a type and a 24-bit length.
constexpr unsigned kClientHelloType = 1;
constexpr std::size_t kHandshakeHeaderBytes = 4;
// Section 4.1.2: ClientHello.
constexpr std::size_t kVersionAndRandomBytes = 2 + 32;
constexpr std::size_t kMaxSessionIdBytes = 32;
// RFC 6066 section 3: the server_name extension and its host_name entries.
constexpr unsigned kServerNameExtension = 0;
constexpr unsigned kHostNameType = 0;
constexpr std::size_t kMaxHostNameBytes = 255;
static_assert(kMaxClientHelloBytes == 16384, "the error text of a longer ClientHello names the limit");

ClientHello Invalid(const char* why) {
  ClientHello hello;
  hello.status = ClientHello::Status::kInvalid;
  hello.error = why;
  return hello;
}

ClientHello NeedMore() { return ClientHello(); }

unsigned Byte(std::string_view bytes, std::size_t i) { return static_cast<unsigned char>(bytes[i]); }

// Reads big-endian integers and length-prefixed vectors off the front of a view, refusing
// (false, view unchanged) whatever would run past its end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool empty() const { return bytes_.empty(); }

  bool Skip(std::size_t n) {
    if (bytes_.size() < n) return false;
    bytes_.remove_prefix(n);
    return true;
  }

  bool U8(unsigned& value) {
    if (bytes_.empty()) return false;
    value = Byte(bytes_, 0);
    bytes_.remove_prefix(1);
    return true;
  }

  bool U16(unsigned& value) {
    if (bytes_.size() < 2) return false;
    value = Byte(bytes_, 0) << 8 | Byte(bytes_, 1);
    bytes_.remove_prefix(2);
    return true;
  }

  // A vector with a one-byte (prefix 1) or two-byte (prefix 2) length.
  bool Vector(std::size_t prefix, std::string_view& value) {
    if (bytes_.size() < prefix) return false;
    const std::size_t length = prefix == 1 ? Byte(bytes_, 0) : Byte(bytes_, 0) << 8 | Byte(bytes_, 1);
    if (bytes_.size() - prefix < length) return false;
    value = bytes_.substr(prefix, length);
    bytes_.remove_prefix(prefix + length);
    return true;
  }

 private:
  std::string_view bytes_;
};

// Checks as much of a record header as has arrived; nullptr when nothing is wrong with it yet.
const char* CheckRecordHeader(std::string_view header) {
  if (header.size() >= 1 && Byte(header, 0) != kHandshakeContentType) return "not a TLS handshake record";
  // Any 3.x, as OpenSSL's record layer takes a first record: clients put 3.0 or 3.1 there.
  if (header.size() >= 2 && Byte(header, 1) != kRecordMajorVersion) return "TLS record version is not 3.x";
  if (header.size() >= kRecordHeaderBytes) {
    const std::size_t length = Byte(header, 3) << 8 | Byte(header, 4);
    if (length == 0) return "empty TLS handshake record";
    if (length > kMaxRecordBytes) return "TLS record longer than 2^14 bytes";
  }
  return nullptr;
}

// A host_name as a name in DNS: letters, digits, '-', and '_' (which some private names use),
// in non-empty labels separated by single dots, at most 255 bytes.
bool IsHostName(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostNameBytes) return false;
  if (name.front() == '.' || name.back() == '.') return false;
  char previous = '\0';
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok || (c == '.' && previous == '.')) return false;
    previous = c;
  }
  return true;
}

// The ClientHello's body, whole (after its four-byte handshake header).
ClientHello ParseBody(std::string_view body) {
  Reader reader(body);
  if (!reader.Skip(kVersionAndRandomBytes)) return Invalid("ClientHello ends inside its version or random");
  std::string_view field;
  if (!reader.Vector(1, field)) return Invalid("ClientHello legacy_session_id runs past the message");
  if (field.size() > kMaxSessionIdBytes) return Invalid("ClientHello legacy_session_id longer than 32 bytes");
  if (!reader.Vector(2, field)) return Invalid("ClientHello cipher_suites run past the message");
  if (field.empty() || field.size() % 2 != 0) return Invalid("ClientHello cipher_suites length is zero or odd");
  if (!reader.Vector(1, field)) return Invalid("ClientHello legacy_compression_methods run past the message");
  if (field.empty()) return Invalid("ClientHello has no compression method");
  ClientHello hello;
  hello.status = ClientHello::Status::kDone;
  if (reader.empty()) return hello;  // no extensions at all (SSL 3.0 style): no SNI
  std::string_view extensions;
  if (!reader.Vector(2, extensions) || !reader.empty()) {
    return Invalid("ClientHello extensions length does not match the message");
  }
  Reader list(extensions);
  bool seen_server_name = false;
  while (!list.empty()) {
    unsigned type = 0;
    std::string_view data;
    if (!list.U16(type) || !list.Vector(2, data)) return Invalid("ClientHello extension runs past the extensions");
    if (type != kServerNameExtension) continue;
    if (seen_server_name) return Invalid("ClientHello has two server_name extensions");
    seen_server_name = true;
    Reader extension(data);
    std::string_view names;
    if (!extension.Vector(2, names) || !extension.empty()) {
      return Invalid("server_name list length does not match its extension");
    }
    if (names.empty()) return Invalid("server_name list is empty");
    Reader entries(names);
    bool taken = false;
    while (!entries.empty()) {
      unsigned name_type = 0;
      std::string_view name;
      if (!entries.U8(name_type) || !entries.Vector(2, name)) return Invalid("server_name entry runs past its list");
      if (name_type != kHostNameType || taken) continue;
      if (!IsHostName(name)) return Invalid("server_name host_name is not a valid host name");
      taken = true;
      hello.server_name.resize(name.size());
      for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        hello.server_name[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
      }
    }
  }
  return hello;
}

ClientHello Parse(std::string_view bytes) {
  // First pass: walk the records until the first handshake message is complete, checking each
  // header as far as it has arrived. Nothing is copied but the message's four header bytes.
  std::array<unsigned char, kHandshakeHeaderBytes> header{};
  std::size_t offset = 0;         // of the current record
  std::size_t have = 0;           // handshake bytes in the records so far
  std::size_t message_bytes = 0;  // the whole message with its header, once that is known
  std::size_t records = 0;
  for (;;) {
    const std::string_view record = bytes.substr(offset);
    if (const char* why = CheckRecordHeader(record.substr(0, kRecordHeaderBytes))) return Invalid(why);
    if (record.size() < kRecordHeaderBytes) return NeedMore();
    const std::size_t length = Byte(record, 3) << 8 | Byte(record, 4);
    const std::string_view fragment = record.substr(kRecordHeaderBytes, length);  // what has arrived of it
    ++records;
    const std::size_t before = have;
    for (std::size_t i = 0; have < kHandshakeHeaderBytes && i < fragment.size(); ++i) {
      header[have++] = static_cast<unsigned char>(fragment[i]);
    }
    have = before + fragment.size();
    if (before == 0 && have > 0 && header[0] != kClientHelloType) {
      return Invalid("first TLS handshake message is not a ClientHello");
    }
    if (before < kHandshakeHeaderBytes && have >= kHandshakeHeaderBytes) {
      message_bytes = kHandshakeHeaderBytes +
                      (static_cast<std::size_t>(header[1]) << 16 | static_cast<std::size_t>(header[2]) << 8 | header[3]);
    }
    if (message_bytes != 0) {
      const std::size_t fragment_start = offset + kRecordHeaderBytes;
      std::size_t end = 0;  // where in `bytes` the message ends, at the earliest
      if (have >= message_bytes) {
        end = fragment_start + (message_bytes - before);
      } else {
        // The rest of this record, then as few further records as can carry what is missing.
        const std::size_t missing = message_bytes - have;
        const std::size_t in_record = length - fragment.size();
        if (missing <= in_record) {
          end = fragment_start + fragment.size() + missing;
        } else {
          const std::size_t beyond = missing - in_record;
          const std::size_t more_records = (beyond + kMaxRecordBytes - 1) / kMaxRecordBytes;
          end = fragment_start + length + more_records * kRecordHeaderBytes + beyond;
        }
      }
      if (end > kMaxClientHelloBytes) return Invalid("ClientHello longer than 16384 bytes with its record headers");
      if (have >= message_bytes) break;
    }
    if (fragment.size() < length) return NeedMore();
    offset += kRecordHeaderBytes + length;
  }

  // Second pass, only for a message split over records: its fragments, joined.
  if (records == 1) return ParseBody(bytes.substr(kRecordHeaderBytes + kHandshakeHeaderBytes,
                                                  message_bytes - kHandshakeHeaderBytes));
  std::string message;
  message.reserve(message_bytes);
  for (offset = 0; message.size() < message_bytes;) {
    const std::size_t length = Byte(bytes, offset + 3) << 8 | Byte(bytes, offset + 4);
    const std::string_view fragment = bytes.substr(offset + kRecordHeaderBytes, length);
    message.append(fragment.substr(0, message_bytes - message.size()));
    offset += kRecordHeaderBytes + length;
  }
  return ParseBody(std::string_view(message).substr(kHandshakeHeaderBytes));
}

}  // namespace

ClientHello ParseClientHello(std::string_view bytes) noexcept {
  try {
    return Parse(bytes);
  } catch (const std::bad_alloc&) {  // the message's copy, the name, or an error's text
    ClientHello hello;                // (the reason is left out: its text would allocate too)
    hello.status = ClientHello::Status::kInvalid;
    return hello;
  }
}

}  // namespace pier::dataplane::tls
