// htpasswd files for HTTP basic authentication, read as nginx reads them for ingress-nginx's
// `auth-type: basic` (the `auth` key of the Secret): one "user:hash" a line, where the hash is
// Apache's "$apr1$" (htpasswd's default), "{SHA}", "{SSHA}", "{PLAIN}", or anything crypt(3)
// verifies (bcrypt, sha256crypt, sha512crypt, yescrypt, md5crypt, DES, ...).
//
// The controller parses a Secret with ParseHtpasswd to report what it cannot use; the dataplane
// parses it again (it trusts nothing it receives) and verifies requests with VerifyPassword.
// Secret contents are attacker-chosen as far as other tenants are concerned, so a hash whose
// cost parameters would make one verification take seconds or allocate hundreds of MiB is
// refused rather than verified.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pier/common/result.h"

namespace pier::auth {

enum class HashScheme {
  kApr1,   // "$apr1$salt$hash": md5crypt with Apache's magic, 1,000 MD5 rounds
  kSha1,   // "{SHA}" base64(SHA-1(password)), unsalted
  kSsha1,  // "{SSHA}" base64(SHA-1(password + salt) + salt)
  kPlain,  // "{PLAIN}password"
  kCrypt,  // verified by libxcrypt's crypt(3)
};

// Cheap schemes can be verified on an I/O thread: apr1 takes 0.15 ms (1.4 ms with the longest
// password), {SHA}, {SSHA} and {PLAIN} a microsecond. kCrypt ones (bcrypt, yescrypt,
// sha512crypt, ...) are built to cost tens of milliseconds and must be verified elsewhere; the
// legacy md5crypt and DES are cheap too but are not told apart.
bool IsExpensive(HashScheme scheme);

// Which scheme a stored hash uses, or why Pier cannot verify it. crypt(3) hashes are accepted
// when libxcrypt's crypt_checksalt() calls their method current or legacy (md5crypt and DES are
// legacy, yet `htpasswd -d` still writes DES) and they are complete: bcrypt ($2a$, $2b$, $2y$,
// $2x$), sha256crypt ($5$), sha512crypt ($6$), yescrypt ($y$), gost-yescrypt ($gy$), scrypt
// ($7$), md5crypt ($1$) and DES (13 characters). Other methods libxcrypt knows (NT, SunMD5,
// sha1crypt, BSDi) are refused: no htpasswd tool writes them, and their cost is unbounded.
// Cost limits: bcrypt cost at most 14, sha256crypt and sha512crypt at most 1,000,000 rounds,
// yescrypt and scrypt at most 64 MiB of work (N * r * p * 128 bytes).
// The error never quotes the hash.
Result<HashScheme> ClassifyHash(std::string_view hash);

// Passwords longer than this never verify: libxcrypt refuses longer passphrases, and the same
// bound keeps a cheap scheme cheap when a client sends a huge Authorization header.
inline constexpr std::size_t kMaxPasswordBytes = 511;

// True when `password` matches `hash`, a hash ClassifyHash accepts (anything else is false).
// Comparison is constant-time. Thread-safe. A password holding a NUL byte never matches a crypt(3)
// hash (crypt would read only up to the NUL). As the algorithms define, bcrypt reads only the first
// 72 bytes of a password and DES the first 8.
bool VerifyPassword(std::string_view hash, std::string_view password);

struct Credential {
  std::string user;
  std::string hash;
  HashScheme scheme;

  friend bool operator==(const Credential&, const Credential&) = default;
};

struct HtpasswdFile {
  std::vector<Credential> users;  // in file order, user names unique
  // One readable line for each line skipped (or the limit reached), e.g.
  // `line 3: user "bob": unsupported hash: ...`, at most kMaxHtpasswdProblems of them and then a
  // count of the rest. Never quotes a hash, a password or a line that may hold one.
  std::vector<std::string> problems;
};

inline constexpr std::size_t kMaxHtpasswdBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxHtpasswdUsers = 10'000;
inline constexpr std::size_t kMaxUserBytes = 255;
inline constexpr std::size_t kMaxHtpasswdProblems = 100;

// Lines "user:hash" separated by LF or CRLF; the hash is everything after the first ':' (as nginx
// reads it: no trimming). Blank lines and lines starting with '#' are ignored. A line without
// ':', with an empty user, a user longer than kMaxUserBytes or holding a control character, or a
// hash ClassifyHash refuses is skipped with a problem. A repeated user keeps its first line, the
// one Apache and nginx match. Past kMaxHtpasswdBytes (cut at the last whole line) or
// kMaxHtpasswdUsers users the rest is ignored, with a problem.
HtpasswdFile ParseHtpasswd(std::string_view text);

}  // namespace pier::auth
