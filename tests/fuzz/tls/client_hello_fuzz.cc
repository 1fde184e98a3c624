// Fuzzes ParseClientHello with a connection's first bytes as they arrive: the input is the
// bytes, and the parser sees all of them and a prefix of them (a read that stopped early).
//
// Beyond "no crash, no leak, no undefined behaviour", the answers must agree: more bytes never
// undo a verdict (a prefix that is kInvalid or kDone stays so, kDone with the same name, and a
// kNeedMore for all the bytes means kNeedMore for every prefix), and a name is always a
// lowercase host name of at most 255 bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tls/client_hello.h"

namespace {

using pier::dataplane::tls::ClientHello;
using pier::dataplane::tls::ParseClientHello;
using Status = ClientHello::Status;

bool IsLowercaseHostName(std::string_view name) {
  if (name.size() > 255 || name.starts_with('.') || name.ends_with('.')) return false;
  if (name.find("..") != std::string_view::npos) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) return false;
  }
  return true;
}

void Check(const ClientHello& hello) {
  if (hello.status == Status::kDone && !IsLowercaseHostName(hello.server_name)) std::abort();
  if (hello.status != Status::kDone && !hello.server_name.empty()) std::abort();
  if (hello.status == Status::kInvalid && hello.error.empty()) std::abort();
}

void Agree(const ClientHello& prefix, const ClientHello& whole) {
  if (prefix.status == Status::kNeedMore) return;
  if (whole.status != prefix.status || whole.server_name != prefix.server_name) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ClientHello whole = ParseClientHello(bytes);
  Check(whole);
  // Two prefixes: half, and one the last byte picks (so a seed's own bytes choose it).
  const std::size_t cuts[] = {size / 2, size == 0 ? 0 : (size * data[size - 1]) / 256};
  for (std::size_t cut : cuts) {
    const ClientHello prefix = ParseClientHello(bytes.substr(0, cut));
    Check(prefix);
    Agree(prefix, whole);
  }
  return 0;
}
