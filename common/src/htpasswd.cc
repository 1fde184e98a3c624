#include "pier/common/htpasswd.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <unordered_map>

#include "pier/common/base64.h"

namespace pier::auth {
namespace {

constexpr std::string_view kApr1Magic = "$apr1$";
constexpr std::string_view kShaPrefix = "{SHA}";
constexpr std::string_view kSshaPrefix = "{SSHA}";
constexpr std::string_view kPlainPrefix = "{PLAIN}";
constexpr std::size_t kSha1Bytes = 20;

// Cost limits, each about a second of one core at most (bcrypt cost 14: 0.8 s; sha512crypt with
// 1,000,000 rounds: 0.4 s; 64 MiB of yescrypt or scrypt: 0.1-0.2 s and 64 MiB of memory). The
// defaults of the tools that write these hashes (bcrypt 5-12, 5,000 rounds, yescrypt 16 MiB,
// scrypt 64 MiB) are well inside; a Secret asking for more would let one request hold a
// verification thread for minutes or the dataplane's memory for gigabytes.
constexpr int kMaxBcryptCost = 14;
constexpr std::uint64_t kMaxShaCryptRounds = 1'000'000;
constexpr std::uint64_t kMaxMemoryCostBytes = std::uint64_t{64} << 20;

// crypt(3)'s base-64 alphabet, in the order apr1 and md5crypt encode with (bcrypt uses the same
// characters in another order, which only matters when decoding).
constexpr std::string_view kCrypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int Crypt64Value(char c) {
  const std::size_t at = kCrypt64.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

bool AllCrypt64(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return Crypt64Value(c) >= 0; });
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// --- Digests --------------------------------------------------------------------------------

struct MdContextFree {
  void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
};
using MdContextPtr = std::unique_ptr<EVP_MD_CTX, MdContextFree>;

// Fetched once: EVP_md5() and friends make OpenSSL 3 look the algorithm up again on every init,
// which apr1's 1,001 inits a verification would feel. A fetched EVP_MD is immutable and shared
// across threads. Null when no provider offers it (MD5 and SHA-1 under a FIPS-only
// configuration); those schemes then never verify.
const EVP_MD* FetchedDigest(const char* name) {
  return EVP_MD_fetch(nullptr, name, nullptr);
}
const EVP_MD* Md5() {
  static const EVP_MD* const md = FetchedDigest("MD5");
  return md;
}
const EVP_MD* Sha1() {
  static const EVP_MD* const md = FetchedDigest("SHA1");
  return md;
}
const EVP_MD* Sha256() {
  static const EVP_MD* const md = FetchedDigest("SHA256");
  return md;
}

// One digest computation at a time on a reused context; any OpenSSL failure sticks, so a caller
// checks once at the end.
class Hasher final {
 public:
  explicit Hasher(const EVP_MD* md) : md_(md), context_(EVP_MD_CTX_new()) { ok_ = md_ != nullptr && context_; }

  void Start() { ok_ = ok_ && EVP_DigestInit_ex2(context_.get(), md_, nullptr) == 1; }
  void Add(const void* data, std::size_t size) {
    if (size > 0) ok_ = ok_ && EVP_DigestUpdate(context_.get(), data, size) == 1;
  }
  void Add(std::string_view text) { Add(text.data(), text.size()); }
  void Finish(unsigned char* out) { ok_ = ok_ && EVP_DigestFinal_ex(context_.get(), out, nullptr) == 1; }
  bool ok() const noexcept { return ok_; }

 private:
  const EVP_MD* md_;
  MdContextPtr context_;
  bool ok_ = false;
};

template <std::size_t N>
bool Digest(const EVP_MD* md, std::initializer_list<std::string_view> parts, std::array<unsigned char, N>& out) {
  if (md == nullptr || EVP_MD_get_size(md) != static_cast<int>(N)) return false;
  Hasher hasher(md);
  hasher.Start();
  for (std::string_view part : parts) hasher.Add(part);
  hasher.Finish(out.data());
  return hasher.ok();
}

bool SameBytes(const void* a, const void* b, std::size_t size) { return CRYPTO_memcmp(a, b, size) == 0; }

// --- apr1 -----------------------------------------------------------------------------------

struct Apr1Parts {
  std::string_view salt;
  std::string_view encoded;  // the 22 characters of the digest
};

constexpr std::size_t kApr1MaxSalt = 8;
constexpr std::size_t kApr1EncodedSize = 22;

Result<Apr1Parts> ParseApr1(std::string_view hash) {
  const std::string_view rest = hash.substr(kApr1Magic.size());
  const std::size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos) return Fail("apr1 hash without the '$' that ends its salt");
  const std::string_view salt = rest.substr(0, dollar);
  if (salt.empty() || salt.size() > kApr1MaxSalt || !AllCrypt64(salt)) {
    return Fail("apr1 salt is not 1 to 8 characters from ./0-9A-Za-z");
  }
  const std::string_view encoded = rest.substr(dollar + 1);
  if (encoded.size() != kApr1EncodedSize || !AllCrypt64(encoded)) {
    return Fail("apr1 hash is not 22 characters from ./0-9A-Za-z after its salt");
  }
  return Apr1Parts{salt, encoded};
}

// Appends the `count` low 6-bit groups of `value`, least significant first.
void AppendCrypt64(std::string& out, std::uint32_t value, int count) {
  for (int i = 0; i < count; ++i) {
    out.push_back(kCrypt64[value & 0x3f]);
    value >>= 6;
  }
}

// The 22 encoded characters of Apache's apr1: Poul-Henning Kamp's md5crypt with "$apr1$" as its
// magic string. Its 1,000 rounds are the whole of its cost: 0.15 ms, 1.4 ms with a password of
// kMaxPasswordBytes, little enough for an I/O thread.
std::optional<std::string> Apr1Encoded(std::string_view password, std::string_view salt) {
  Hasher md5(Md5());
  std::array<unsigned char, 16> alternate{};
  std::array<unsigned char, 16> digest{};

  md5.Start();
  md5.Add(password);
  md5.Add(salt);
  md5.Add(password);
  md5.Finish(alternate.data());

  md5.Start();
  md5.Add(password);
  md5.Add(kApr1Magic);
  md5.Add(salt);
  for (std::size_t left = password.size(); left > 0; left -= std::min<std::size_t>(left, alternate.size())) {
    md5.Add(alternate.data(), std::min<std::size_t>(left, alternate.size()));
  }
  // The original reads a byte of an already-zeroed digest here, hence the NUL.
  static constexpr char kZero = '\0';
  for (std::size_t bits = password.size(); bits > 0; bits >>= 1) {
    md5.Add((bits & 1) != 0 ? &kZero : password.data(), 1);
  }
  md5.Finish(digest.data());

  for (int round = 0; round < 1000; ++round) {
    md5.Start();
    if ((round & 1) != 0) {
      md5.Add(password);
    } else {
      md5.Add(digest.data(), digest.size());
    }
    if (round % 3 != 0) md5.Add(salt);
    if (round % 7 != 0) md5.Add(password);
    if ((round & 1) != 0) {
      md5.Add(digest.data(), digest.size());
    } else {
      md5.Add(password);
    }
    md5.Finish(digest.data());
  }

  std::optional<std::string> encoded;
  if (md5.ok()) {
    const auto at = [&digest](int i) { return static_cast<std::uint32_t>(digest[static_cast<std::size_t>(i)]); };
    encoded.emplace();
    encoded->reserve(kApr1EncodedSize);
    AppendCrypt64(*encoded, at(0) << 16 | at(6) << 8 | at(12), 4);
    AppendCrypt64(*encoded, at(1) << 16 | at(7) << 8 | at(13), 4);
    AppendCrypt64(*encoded, at(2) << 16 | at(8) << 8 | at(14), 4);
    AppendCrypt64(*encoded, at(3) << 16 | at(9) << 8 | at(15), 4);
    AppendCrypt64(*encoded, at(4) << 16 | at(10) << 8 | at(5), 4);
    AppendCrypt64(*encoded, at(11), 2);
  }
  OPENSSL_cleanse(alternate.data(), alternate.size());
  OPENSSL_cleanse(digest.data(), digest.size());
  return encoded;
}

// --- {SHA} and {SSHA} -----------------------------------------------------------------------

// The base64 after the prefix. Base64Decode skips whitespace, which nginx's decoder does not; a
// hash with a space in it is refused rather than read differently from nginx.
Result<std::string> DecodeShaBody(std::string_view body) {
  if (std::any_of(body.begin(), body.end(), [](char c) { return static_cast<unsigned char>(c) <= ' '; })) {
    return Fail("invalid base64: whitespace or a control character");
  }
  return Base64Decode(body, Base64Padding::kRequired);
}

Result<std::string> DecodeSha(std::string_view hash) {
  auto decoded = DecodeShaBody(hash.substr(kShaPrefix.size()));
  if (!decoded.ok()) return Fail("{SHA} hash: " + decoded.error());
  if (decoded->size() != kSha1Bytes) return Fail("{SHA} hash does not decode to the 20 bytes of a SHA-1 digest");
  return decoded;
}

Result<std::string> DecodeSsha(std::string_view hash) {
  auto decoded = DecodeShaBody(hash.substr(kSshaPrefix.size()));
  if (!decoded.ok()) return Fail("{SSHA} hash: " + decoded.error());
  if (decoded->size() <= kSha1Bytes) return Fail("{SSHA} hash does not decode to a 20-byte SHA-1 digest and a salt");
  return decoded;
}

// --- crypt(3) -------------------------------------------------------------------------------

// The part of `text` before the next '$', and `text` moved past that '$'; nullopt without one.
std::optional<std::string_view> TakeField(std::string_view& text) {
  const std::size_t dollar = text.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  const std::string_view field = text.substr(0, dollar);
  text.remove_prefix(dollar + 1);
  return field;
}

// "$2b$NN$" then 22 characters of salt and 31 of digest.
Result<bool> CheckBcrypt(std::string_view hash) {
  constexpr std::size_t kSize = 60;
  if (hash.size() != kSize || std::string_view("abxy").find(hash[2]) == std::string_view::npos || hash[3] != '$' ||
      !IsDigit(hash[4]) || !IsDigit(hash[5]) || hash[6] != '$' || !AllCrypt64(hash.substr(7))) {
    return Fail("truncated or malformed bcrypt hash (not \"$2?$\", a two-digit cost, \"$\" and 53 characters)");
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return Fail("bcrypt cost " + std::to_string(cost) + " is outside 4..31");
  if (cost > kMaxBcryptCost) {
    return Fail("bcrypt cost " + std::to_string(cost) + " is above Pier's limit of " + std::to_string(kMaxBcryptCost));
  }
  return true;
}

// "$5$" or "$6$", an optional "rounds=N$", a salt of at most 16 characters, "$" and the digest.
Result<bool> CheckShaCrypt(std::string_view hash, std::string_view name, std::size_t encoded_size) {
  std::string_view rest = hash.substr(3);
  constexpr std::string_view kRounds = "rounds=";
  if (rest.starts_with(kRounds)) {
    rest.remove_prefix(kRounds.size());
    const auto digits = TakeField(rest);
    if (!digits || digits->empty() || digits->size() > 9 || (*digits)[0] == '0' ||
        !std::all_of(digits->begin(), digits->end(), IsDigit)) {
      return Fail(std::string(name) + " hash with a malformed rounds= field");
    }
    std::uint64_t rounds = 0;
    for (char c : *digits) rounds = rounds * 10 + static_cast<std::uint64_t>(c - '0');
    // libxcrypt refuses fewer than 1,000 rounds rather than rounding up as glibc did.
    if (rounds < 1000) return Fail(std::string(name) + " rounds below 1000");
    if (rounds > kMaxShaCryptRounds) {
      return Fail(std::string(name) + " rounds " + std::to_string(rounds) + " are above Pier's limit of " +
                  std::to_string(kMaxShaCryptRounds));
    }
  }
  const auto salt = TakeField(rest);
  if (!salt || salt->size() > 16) return Fail("truncated or malformed " + std::string(name) + " hash (salt)");
  if (rest.size() != encoded_size || !AllCrypt64(rest)) {
    return Fail("truncated or malformed " + std::string(name) + " hash (not " + std::to_string(encoded_size) +
                " characters after the salt)");
  }
  return true;
}

// "$1$", a salt of at most 8 characters, "$" and 22 characters.
Result<bool> CheckMd5Crypt(std::string_view hash) {
  std::string_view rest = hash.substr(3);
  const auto salt = TakeField(rest);
  if (!salt || salt->size() > 8 || rest.size() != 22 || !AllCrypt64(rest)) {
    return Fail("truncated or malformed md5crypt hash");
  }
  return true;
}

// "$y$" or "$gy$", parameters, "$", salt, "$" and 43 characters. The parameters libxcrypt writes
// are three characters: the flavor "j", then log2(N) - 1 and r - 1 as one character each; memory
// is 128 * N * r bytes. Longer parameters (p, t, g or a ROM) are refused: no tool writes them, and
// their cost would need decoding yescrypt's variable-length fields.
Result<bool> CheckYescrypt(std::string_view hash, std::size_t prefix_size) {
  std::string_view rest = hash.substr(prefix_size);
  const auto params = TakeField(rest);
  const auto salt = TakeField(rest);
  if (!params || !salt || !AllCrypt64(*salt) || rest.size() != 43 || !AllCrypt64(rest)) {
    return Fail("truncated or malformed yescrypt hash");
  }
  // Single-character fields hold values 0..47; larger ones take more characters.
  const bool three = params->size() == 3;
  const int n_field = three ? Crypt64Value((*params)[1]) : -1;
  const int r_field = three ? Crypt64Value((*params)[2]) : -1;
  if (!three || (*params)[0] != 'j' || n_field < 0 || n_field > 47 || r_field < 0 || r_field > 47) {
    return Fail("yescrypt parameters other than the flavor, N and r are not supported");
  }
  const int n_log2 = n_field + 1;
  const std::uint64_t r = static_cast<std::uint64_t>(r_field) + 1;
  // n_log2 <= 48 and r <= 48: 128 * 48 << 48 still fits 64 bits.
  const std::uint64_t memory = (std::uint64_t{128} * r) << n_log2;
  if (memory > kMaxMemoryCostBytes) {
    return Fail("yescrypt parameters need " + std::to_string(memory >> 20) + " MiB, above Pier's limit of " +
                std::to_string(kMaxMemoryCostBytes >> 20) + " MiB");
  }
  return true;
}

// "$7$", log2(N) as one character, r and p as five characters each (6 bits a character, least
// significant first), salt, "$" and 43 characters. Work is 128 * N * r * p bytes of mixing.
Result<bool> CheckScrypt(std::string_view hash) {
  std::string_view rest = hash.substr(3);
  constexpr std::size_t kParamsSize = 11;
  if (rest.size() < kParamsSize || !AllCrypt64(rest.substr(0, kParamsSize))) {
    return Fail("truncated or malformed scrypt hash");
  }
  const int n_log2 = Crypt64Value(rest[0]);
  const auto field = [&rest](std::size_t at) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < 5; ++i) value |= static_cast<std::uint64_t>(Crypt64Value(rest[at + i])) << (6 * i);
    return value;
  };
  const std::uint64_t r = field(1);
  const std::uint64_t p = field(6);
  rest.remove_prefix(kParamsSize);
  const auto salt = TakeField(rest);
  if (!salt || !AllCrypt64(*salt) || rest.size() != 43 || !AllCrypt64(rest) || n_log2 < 1 || r == 0 || p == 0) {
    return Fail("truncated or malformed scrypt hash");
  }
  // Stepwise, so that no product can overflow before it is compared with the limit.
  bool too_costly = n_log2 > 32;
  std::uint64_t work = too_costly ? 0 : std::uint64_t{128} << n_log2;
  too_costly = too_costly || r > kMaxMemoryCostBytes / work;
  if (!too_costly) work *= r;
  too_costly = too_costly || p > kMaxMemoryCostBytes / work;
  if (too_costly) {
    return Fail("scrypt parameters are above Pier's limit of " + std::to_string(kMaxMemoryCostBytes >> 20) +
                " MiB of work");
  }
  return true;
}

constexpr std::string_view kKnownFormats =
    "apr1, {SHA}, {SSHA}, {PLAIN} (plain text needs this prefix), bcrypt, sha256crypt, sha512crypt, yescrypt, "
    "scrypt, md5crypt or DES (13 characters)";

Result<bool> CheckCryptHash(std::string_view hash) {
  // crypt(3) takes NUL-terminated strings and writes at most CRYPT_OUTPUT_SIZE bytes.
  if (hash.size() >= CRYPT_OUTPUT_SIZE || hash.find('\0') != std::string_view::npos) {
    return Fail(std::string("not a hash Pier knows: ") + std::string(kKnownFormats));
  }
  const std::string setting(hash);
  switch (crypt_checksalt(setting.c_str())) {
    case CRYPT_SALT_OK:
    case CRYPT_SALT_METHOD_LEGACY:
      break;
    case CRYPT_SALT_METHOD_DISABLED:
      return Fail("its crypt(3) method is disabled in this build of libxcrypt");
    default:
      return Fail(std::string("not a hash Pier knows: ") + std::string(kKnownFormats));
  }
  if (hash.starts_with("$2")) return CheckBcrypt(hash);
  if (hash.starts_with("$5$")) return CheckShaCrypt(hash, "sha256crypt", 43);
  if (hash.starts_with("$6$")) return CheckShaCrypt(hash, "sha512crypt", 86);
  if (hash.starts_with("$1$")) return CheckMd5Crypt(hash);
  if (hash.starts_with("$y$")) return CheckYescrypt(hash, 3);
  if (hash.starts_with("$gy$")) return CheckYescrypt(hash, 4);
  if (hash.starts_with("$7$")) return CheckScrypt(hash);
  if (hash[0] == '$' || hash[0] == '_') {
    return Fail(std::string("a crypt(3) method Pier does not verify; supported: ") + std::string(kKnownFormats));
  }
  // Traditional DES: two characters of salt and eleven of digest. crypt_checksalt() takes any
  // short string of these characters for a DES salt, plain-text passwords included.
  if (hash.size() != 13 || !AllCrypt64(hash)) {
    return Fail(std::string("not a hash Pier knows: ") + std::string(kKnownFormats));
  }
  return true;
}

bool VerifyCrypt(std::string_view hash, std::string_view password) {
  if (password.find('\0') != std::string_view::npos) return false;
  // crypt_rn keeps all its state in `data` (no static buffers, unlike crypt()), which must be
  // zeroed before its first use: value-initialisation does that. 32 KiB, so on the heap.
  auto data = std::make_unique<crypt_data>();
  std::string phrase(password);
  const std::string setting(hash);
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  // crypt_rn returns null on failure; the length of a crypt output is public.
  const bool match = out != nullptr && std::strlen(out) == hash.size() && SameBytes(out, hash.data(), hash.size());
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  OPENSSL_cleanse(phrase.data(), phrase.size());
  return match;
}

// --- htpasswd files -------------------------------------------------------------------------

bool IsBlank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; });
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

}  // namespace

bool IsExpensive(HashScheme scheme) { return scheme == HashScheme::kCrypt; }

Result<HashScheme> ClassifyHash(std::string_view hash) {
  if (hash.empty()) return Fail("the hash is empty");
  if (hash.starts_with(kApr1Magic)) {
    auto parts = ParseApr1(hash);
    if (!parts.ok()) return Fail(parts.error());
    return HashScheme::kApr1;
  }
  if (hash.starts_with(kShaPrefix)) {
    auto digest = DecodeSha(hash);
    if (!digest.ok()) return Fail(digest.error());
    return HashScheme::kSha1;
  }
  if (hash.starts_with(kSshaPrefix)) {
    auto digest = DecodeSsha(hash);
    if (!digest.ok()) return Fail(digest.error());
    return HashScheme::kSsha1;
  }
  if (hash.starts_with(kPlainPrefix)) {
    if (hash.size() - kPlainPrefix.size() > kMaxPasswordBytes) {
      return Fail("{PLAIN} password longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
    }
    return HashScheme::kPlain;
  }
  // The convention for an account that must not log in, which crypt_checksalt() refuses too;
  // named here because a locked user is usually deliberate.
  if (hash[0] == '!' || hash[0] == '*') return Fail("a locked entry (starting with '!' or '*') matches no password");
  auto checked = CheckCryptHash(hash);
  if (!checked.ok()) return Fail(checked.error());
  return HashScheme::kCrypt;
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return false;
  const auto scheme = ClassifyHash(hash);
  if (!scheme.ok()) return false;
  switch (*scheme) {
    case HashScheme::kApr1: {
      const auto parts = ParseApr1(hash);
      const auto encoded = Apr1Encoded(password, parts->salt);
      return encoded && encoded->size() == kApr1EncodedSize &&
             SameBytes(encoded->data(), parts->encoded.data(), kApr1EncodedSize);
    }
    case HashScheme::kSha1: {
      const auto stored = DecodeSha(hash);
      std::array<unsigned char, kSha1Bytes> digest{};
      return Digest(Sha1(), {password}, digest) && SameBytes(digest.data(), stored->data(), kSha1Bytes);
    }
    case HashScheme::kSsha1: {
      const auto stored = DecodeSsha(hash);
      const std::string_view salt = std::string_view(*stored).substr(kSha1Bytes);
      std::array<unsigned char, kSha1Bytes> digest{};
      return Digest(Sha1(), {password, salt}, digest) && SameBytes(digest.data(), stored->data(), kSha1Bytes);
    }
    case HashScheme::kPlain: {
      // Compared through SHA-256 so that neither the time nor an early length check tells how
      // long the stored password is.
      std::array<unsigned char, 32> want{};
      std::array<unsigned char, 32> got{};
      return Digest(Sha256(), {hash.substr(kPlainPrefix.size())}, want) && Digest(Sha256(), {password}, got) &&
             SameBytes(want.data(), got.data(), want.size());
    }
    case HashScheme::kCrypt:
      return VerifyCrypt(hash, password);
  }
  return false;
}

HtpasswdFile ParseHtpasswd(std::string_view text) {
  HtpasswdFile file;
  std::size_t dropped_problems = 0;
  const auto problem = [&](std::string message) {
    if (file.problems.size() < kMaxHtpasswdProblems) {
      file.problems.push_back(std::move(message));
    } else {
      ++dropped_problems;
    }
  };

  // Cut at a line end: a line cut short could still parse, e.g. as a shorter {PLAIN} password.
  const bool oversized = text.size() > kMaxHtpasswdBytes;
  if (oversized) {
    const std::size_t last_newline = text.substr(0, kMaxHtpasswdBytes).rfind('\n');
    text = text.substr(0, last_newline == std::string_view::npos ? 0 : last_newline + 1);
  }

  // Every user named on a valid-looking line, even one whose hash is refused: nginx matches the
  // first line of a user, so a later line must not let in a user whose first line is locked.
  std::unordered_map<std::string_view, std::size_t> first_line;
  std::size_t line_number = 0;
  bool stopped = false;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (IsBlank(line) || line[0] == '#') continue;

    // The line may be a password pasted alone or hold a hash: messages quote the user at most.
    const std::string where = "line " + std::to_string(line_number) + ": ";
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      problem(where + "no ':' between user and hash");
      continue;
    }
    const std::string_view user = line.substr(0, colon);
    const std::string_view hash = line.substr(colon + 1);
    if (user.empty()) {
      problem(where + "empty user name");
      continue;
    }
    if (user.size() > kMaxUserBytes) {
      problem(where + "user name longer than " + std::to_string(kMaxUserBytes) + " bytes");
      continue;
    }
    if (HasControlCharacter(user)) {
      problem(where + "user name holds a control character");
      continue;
    }
    const std::string who = where + "user \"" + std::string(user) + "\"";
    if (const auto seen = first_line.find(user); seen != first_line.end()) {
      problem(who + " repeats line " + std::to_string(seen->second) + ", whose entry is the one used");
      continue;
    }
    if (first_line.size() == kMaxHtpasswdUsers) {
      problem(where + "more than " + std::to_string(kMaxHtpasswdUsers) + " users: the rest of the file is ignored");
      stopped = true;
      break;
    }
    first_line.emplace(user, line_number);
    auto scheme = ClassifyHash(hash);
    if (!scheme.ok()) {
      problem(who + ": unsupported hash: " + scheme.error());
      continue;
    }
    file.users.push_back(Credential{std::string(user), std::string(hash), *scheme});
  }
  if (oversized && !stopped) {
    problem("larger than " + std::to_string(kMaxHtpasswdBytes >> 20) + " MiB: only the first " +
            std::to_string(line_number) + " lines are read");
  }
  if (dropped_problems > 0) file.problems.push_back(std::to_string(dropped_problems) + " more problems not listed");
  return file;
}

}  // namespace pier::auth
