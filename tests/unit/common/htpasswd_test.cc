#include "pier/common/htpasswd.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pier::auth {
namespace {

using namespace std::string_literals;

// Every hash below was made by a real tool when this test was written (Debian 12: OpenSSL 3.0,
// apache2-utils 2.4, whois' mkpasswd on libxcrypt 4.4.33); the command is beside it.
struct Vector {
  std::string_view command;
  std::string_view hash;
  std::string password;
  HashScheme scheme;
  // bcrypt reads 72 bytes of a password and DES 8: a byte appended past those changes nothing.
  bool reads_appended_byte = true;
};

const std::vector<Vector>& Vectors() {
  static const std::vector<Vector> vectors = {
      // apr1, salts of 8, 1, 2, 5 and 6 characters; passwords of 0, 1, 8, 16, 17, 28 and 33 bytes.
      {"openssl passwd -apr1 -salt abcdefgh 'password'", "$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1", "password",
       HashScheme::kApr1},
      {"openssl passwd -apr1 -salt a 'password'", "$apr1$a$uaXsIQMLByuJ96Y9RmVGM.", "password", HashScheme::kApr1},
      {"openssl passwd -apr1 -salt ab 'x'", "$apr1$ab$eIePjsejfBGR8ITtu2z0U1", "x", HashScheme::kApr1},
      {"openssl passwd -apr1 -salt xyz12 'password'", "$apr1$xyz12$njltaHwR4TZA7iTXGQ1RC0", "password",
       HashScheme::kApr1},
      {"openssl passwd -apr1 -salt Zz09./ 'correct horse battery staple'", "$apr1$Zz09./$CdrfTFTGyMXVkb2fBChLv.",
       "correct horse battery staple", HashScheme::kApr1},
      {"openssl passwd -apr1 -salt 12345678 '0123456789abcdef'", "$apr1$12345678$vc38ZupyU1KkWqFuFfTA/.",
       "0123456789abcdef", HashScheme::kApr1},
      {"openssl passwd -apr1 -salt 12345678 '0123456789abcdefg'", "$apr1$12345678$CKLG1hUVwDnnbEmR9eB5r.",
       "0123456789abcdefg", HashScheme::kApr1},
      {"openssl passwd -apr1 -salt 12345678 '0123456789abcdef0123456789abcdef!'",
       "$apr1$12345678$X0/W.bKIEfZlLete4tcue.", "0123456789abcdef0123456789abcdef!", HashScheme::kApr1},
      {"openssl passwd -apr1 -salt saltsalt ''", "$apr1$saltsalt$a8ml/vK5HEjiZ5oypDWA7/", "", HashScheme::kApr1},
      {"htpasswd -nbm alice 'hunter2'", "$apr1$yeS5kXPa$qXdQws1ap2nMMZJfuj.mB1", "hunter2", HashScheme::kApr1},
      // {SHA}
      {"htpasswd -nbs erin 'password'", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "password", HashScheme::kSha1},
      {"htpasswd -nbs erin ''", "{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "", HashScheme::kSha1},
      // {SSHA}: no Debian tool writes it without slapd; OpenSSL computes it from its definition.
      {"{ printf password; printf NaCl4; } | openssl dgst -sha1 -binary, then salt NaCl4 appended, base64",
       "{SSHA}KTofiscEmG6JDZ/vyl9iGp5Lih1OYUNsNA==", "password", HashScheme::kSsha1},
      {"the same with 'correct horse battery staple' and the 8-byte salt \\x01..\\x08",
       "{SSHA}axjXroWdrjIVf38p0IUbdYaQZtQBAgMEBQYHCA==", "correct horse battery staple", HashScheme::kSsha1},
      {"the same with 'password' and the 1-byte salt 'x'", "{SSHA}MmvR2kbX00a6+NDVsCIQhKYh2W54", "password",
       HashScheme::kSsha1},
      // {PLAIN}, as nginx reads it.
      {"(written by hand)", "{PLAIN}s3cret", "s3cret", HashScheme::kPlain},
      // bcrypt
      {"htpasswd -nbB -C 4 carol 'password'", "$2y$04$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2i",
       "password", HashScheme::kCrypt},
      {"htpasswd -nbB -C 5 dave 'correct horse battery staple'",
       "$2y$05$iqizvAKQywwA6y3FWsQA5u1uZnSFitQZrihAqUiAJXUTD08TaDQyi", "correct horse battery staple",
       HashScheme::kCrypt},
      {"mkpasswd -m bcrypt -R 4 'hunter2'", "$2b$05$Pfic6auLjq3WBXkgM/5QmOnWHwLj7D81cN0uLWj.P/64RU8VJ5z/6", "hunter2",
       HashScheme::kCrypt},
      {"mkpasswd -m bcrypt-a -R 4 'password'", "$2a$05$DUksC7u2QYqdLiOnyD7f/eRLJrb0PZXLOKjIPaXVCzmS.jEkmHnrW",
       "password", HashScheme::kCrypt},
      {"htpasswd -nbB -C 4 u \"$(printf 'a%.0s' $(seq 1 72))\"",
       "$2y$04$AfHfb930YviZp3ccnkg4W.JGODsOdXMOmLDUKoWPcHgRLiwXVXGaS", std::string(72, 'a'),
       HashScheme::kCrypt, false},
      // sha256crypt and sha512crypt
      {"openssl passwd -5 -salt saltsalt 'password'", "$5$saltsalt$gOjOtoMpVhru2uyjeJSEc/JaLQWOXMNmlOnj6T4AtC.",
       "password", HashScheme::kCrypt},
      {"htpasswd -nb2 u 'password'", "$5$T87LVue2yqui4mdp$ful8dyLAhB5BBEabiAt4o4LLxqO3IZyPhWjh45NQP9/", "password",
       HashScheme::kCrypt},
      {"openssl passwd -6 -salt saltsalt 'password'",
       "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/", "password",
       HashScheme::kCrypt},
      {"openssl passwd -6 -salt 'rounds=10000$saltsalt' 'password'",
       "$6$rounds=10000$saltsalt$ZqOTO2O04D/DgwZlm.rZTgWxvBaIf4LQsZKtXFEu9UHJ4CvgmdLAGxKUzJ0mPO98OevETdY6oK/"
       "Oac6j2Axxq/",
       "password", HashScheme::kCrypt},
      {"htpasswd -nb5 -r 10000 u 'password'",
       "$6$rounds=10000$7Jwpce4H0/YQdYp.$AgWeughKsh4Tyx0cxTrnWjeUYQqKA1IhyTkqOjTczQkXn2TkkgHbmXTCeGfRZkHugj5bpSw"
       "oIiUeBH/ZUzmtm0",
       "password", HashScheme::kCrypt},
      // yescrypt, gost-yescrypt, scrypt (libxcrypt's default cost for each)
      {"mkpasswd -m yescrypt 'password'", "$y$j9T$Tdi.hYJVg/iCXBIgRSEHo/$UGUGs23TYSflyXkdDvZN.ruLKdm5aR0m9UvEQKKFVE0",
       "password", HashScheme::kCrypt},
      {"mkpasswd -m gost-yescrypt 'correct horse'",
       "$gy$j9T$7jvdE0k11Nu8BwESaPBxx/$eNmzLb.Fa.cZcrdZLqRU71cJyeTf6cd6uoiGZk1zKVC", "correct horse",
       HashScheme::kCrypt},
      {"mkpasswd -m scrypt 'correct horse'",
       "$7$CU..../....wyODoLL1o4Tqx7x06szPW/$K3ICFopZnRYkMH1e3JXQr/VaXEjzTA7V0aZwsJ6QmY8", "correct horse",
       HashScheme::kCrypt},
      // md5crypt and DES: legacy to libxcrypt, still accepted.
      {"openssl passwd -1 -salt abcdefgh 'password'", "$1$abcdefgh$G//4keteveJp0qb8z2DxG/", "password",
       HashScheme::kCrypt},
      {"openssl passwd -1 -salt ab 'hunter2'", "$1$ab$YTP8LwpHAEK53FJF7Ni8G/", "hunter2", HashScheme::kCrypt},
      {"openssl passwd -1 -salt '' 'password'", "$1$$I2o9Z7NcvQAKp7wyCTlia0", "password", HashScheme::kCrypt},
      {"htpasswd -nbd frank 'password'", "3KY.T2Dp1nVG6", "password", HashScheme::kCrypt, false},
      {"htpasswd -nbd frank 'pass'", "tAWtr.I6UxlTI", "pass", HashScheme::kCrypt},
      {"mkpasswd -m descrypt -S ab 'password'", "abJnggxhB/yWI", "password", HashScheme::kCrypt, false},
  };
  return vectors;
}

TEST(VerifyPassword, EachVectorVerifiesItsPasswordOnly) {
  for (const Vector& vector : Vectors()) {
    SCOPED_TRACE(std::string(vector.command));
    const std::string& password = vector.password;
    const auto scheme = ClassifyHash(vector.hash);
    ASSERT_TRUE(scheme.ok()) << scheme.error();
    EXPECT_EQ(*scheme, vector.scheme);
    EXPECT_TRUE(VerifyPassword(vector.hash, password));

    EXPECT_FALSE(VerifyPassword(vector.hash, "wrong password"));
    if (password.empty()) {
      EXPECT_FALSE(VerifyPassword(vector.hash, "x"));
      EXPECT_FALSE(VerifyPassword(vector.hash, std::string(1, '\0')));
      continue;
    }
    EXPECT_FALSE(VerifyPassword(vector.hash, ""));
    std::string last_byte_differs = password;
    last_byte_differs.back() ^= 0x01;
    EXPECT_FALSE(VerifyPassword(vector.hash, last_byte_differs));
    std::string first_byte_differs = password;
    first_byte_differs.front() ^= 0x20;
    EXPECT_FALSE(VerifyPassword(vector.hash, first_byte_differs));
    EXPECT_FALSE(VerifyPassword(vector.hash, password.substr(0, password.size() - 1)));
    EXPECT_EQ(VerifyPassword(vector.hash, password + "x"), !vector.reads_appended_byte);
  }
}

TEST(VerifyPassword, TruncatingAlgorithmsIgnoreBytesPastTheirLimit) {
  // bcrypt reads 72 bytes, DES 8: documented, and what nginx (through crypt(3)) does too.
  const std::string_view bcrypt = "$2y$04$AfHfb930YviZp3ccnkg4W.JGODsOdXMOmLDUKoWPcHgRLiwXVXGaS";  // 72 'a'
  EXPECT_TRUE(VerifyPassword(bcrypt, std::string(72, 'a') + "bcd"));
  EXPECT_FALSE(VerifyPassword(bcrypt, std::string(71, 'a')));
  EXPECT_TRUE(VerifyPassword("3KY.T2Dp1nVG6", "password and more"));
  EXPECT_FALSE(VerifyPassword("3KY.T2Dp1nVG6", "passwor"));
}

TEST(VerifyPassword, Apr1EveryEncodedCharacterCounts) {
  // The known-good vectors pin the encoding; this pins the comparison: it must cover every one
  // of the 22 characters, and the salt.
  const std::string hash = "$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1";
  ASSERT_TRUE(VerifyPassword(hash, "password"));
  for (std::size_t at = hash.size() - 22; at < hash.size(); ++at) {
    std::string changed = hash;
    changed[at] = changed[at] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifyPassword(changed, "password")) << "character " << at;
  }
  EXPECT_FALSE(VerifyPassword("$apr1$abcdefgi$FBwExRW4dCc8aL.OvjpIE1", "password"));
}

TEST(VerifyPassword, Apr1AndMd5CryptDifferOnlyInTheirMagic) {
  // Same algorithm, same salt and password: the magic string is part of what is hashed.
  EXPECT_TRUE(VerifyPassword("$1$abcdefgh$G//4keteveJp0qb8z2DxG/", "password"));
  EXPECT_FALSE(VerifyPassword("$apr1$abcdefgh$G//4keteveJp0qb8z2DxG/", "password"));
  EXPECT_FALSE(VerifyPassword("$1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1", "password"));
}

TEST(VerifyPassword, SaltedShaReadsItsSalt) {
  // Digest of 'password' + 'x' with the salt byte changed to 'y' (base64 "eQ==" for "eA==").
  EXPECT_TRUE(VerifyPassword("{SSHA}MmvR2kbX00a6+NDVsCIQhKYh2W54", "password"));
  EXPECT_FALSE(VerifyPassword("{SSHA}MmvR2kbX00a6+NDVsCIQhKYh2W55", "password"));
  // {SHA} of 'password' read as {SSHA} is refused: nothing is left for a salt.
  EXPECT_FALSE(VerifyPassword("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "password"));
}

TEST(VerifyPassword, PlainComparesTheWholeText) {
  EXPECT_TRUE(VerifyPassword("{PLAIN}", ""));  // nginx accepts an empty {PLAIN} password too
  EXPECT_FALSE(VerifyPassword("{PLAIN}", "x"));
  EXPECT_TRUE(VerifyPassword("{PLAIN}a:b c ", "a:b c "));
  EXPECT_FALSE(VerifyPassword("{PLAIN}a:b c ", "a:b c"));
  EXPECT_FALSE(VerifyPassword("{PLAIN}pass", "pass\0"s));
  EXPECT_FALSE(VerifyPassword("{plain}pass", "pass"));  // the prefixes are case-sensitive, as in nginx
}

TEST(VerifyPassword, NulInPasswordNeverMatchesCrypt) {
  // crypt(3) would stop reading at the NUL and see "password".
  const std::string_view sha512 =
      "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/";
  ASSERT_TRUE(VerifyPassword(sha512, "password"));
  EXPECT_FALSE(VerifyPassword(sha512, "password\0extra"s));
  EXPECT_FALSE(VerifyPassword("3KY.T2Dp1nVG6", "password\0"s));
}

TEST(VerifyPassword, LongPasswordsNeverMatch) {
  const std::string longest(kMaxPasswordBytes, 'p');
  EXPECT_TRUE(VerifyPassword("{PLAIN}" + longest, longest));
  EXPECT_FALSE(VerifyPassword("{PLAIN}" + longest + "p", longest + "p"));
  EXPECT_FALSE(ClassifyHash("{PLAIN}" + longest + "p").ok());
}

TEST(VerifyPassword, RefusedHashesNeverMatch) {
  for (const char* hash : {"", "*", "!", "!$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1", "password", "{SHA}", "$2y$"}) {
    EXPECT_FALSE(VerifyPassword(hash, "")) << hash;
    EXPECT_FALSE(VerifyPassword(hash, "password")) << hash;
    EXPECT_FALSE(VerifyPassword(hash, hash)) << hash;
  }
}

TEST(VerifyPassword, IsThreadSafe) {
  // crypt_rn with per-call state, and OpenSSL contexts per call: concurrent verifications of
  // every kind must all agree with a serial one.
  // scrypt is left out: 64 MiB and 0.1 s a verification, four at once, for no new coverage.
  std::vector<Vector> vectors;
  for (const Vector& vector : Vectors()) {
    if (!vector.hash.starts_with("$7$")) vectors.push_back(vector);
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&vectors, &failures, t] {
      for (const Vector& vector : vectors) {
        if (!VerifyPassword(vector.hash, vector.password)) ++failures[t];
        if (VerifyPassword(vector.hash, "wrong password")) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST(IsExpensive, OnlyCryptIs) {
  EXPECT_FALSE(IsExpensive(HashScheme::kApr1));
  EXPECT_FALSE(IsExpensive(HashScheme::kSha1));
  EXPECT_FALSE(IsExpensive(HashScheme::kSsha1));
  EXPECT_FALSE(IsExpensive(HashScheme::kPlain));
  EXPECT_TRUE(IsExpensive(HashScheme::kCrypt));
}

struct Refusal {
  std::string hash;
  std::string_view reason;  // a part of the error
};

TEST(ClassifyHash, RefusesWhatItCannotVerify) {
  const std::vector<Refusal> refusals = {
      {"", "empty"},
      {"garbage", "not a hash Pier knows"},
      {"password", "{PLAIN}"},  // `htpasswd -p` output: Apache's plain text, which nginx does not read
      {"$foo$bar$baz", "not a hash Pier knows"},
      {"*", "locked"},
      {"!", "locked"},
      {"!$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1", "locked"},
      // apr1
      {"$apr1$abcdefgh", "'$' that ends its salt"},
      {"$apr1$abcdefghFBwExRW4dCc8aL.OvjpIE1", "'$' that ends its salt"},
      {"$apr1$$FBwExRW4dCc8aL.OvjpIE1", "1 to 8 characters"},
      {"$apr1$abcdefghi$FBwExRW4dCc8aL.OvjpIE1", "1 to 8 characters"},
      {"$apr1$ab:d$FBwExRW4dCc8aL.OvjpIE1", "1 to 8 characters"},
      {"$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE", "22 characters"},
      {"$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1x", "22 characters"},
      {"$apr1$abcdefgh$FBwExRW4dCc8aL+OvjpIE1", "22 characters"},
      // {SHA} and {SSHA}
      {"{SHA}", "20 bytes"},
      {"{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g", "invalid base64"},
      {"{SHA}W6ph5Mm5Pz8Ggi*LbPgzG37mj9g=", "invalid base64"},
      {"{SHA}W6ph5Mm5Pz8Ggi LbPgzG37mj9g=", "invalid base64"},
      {"{SHA}YWJj", "20 bytes"},
      {"{SHA}KTofiscEmG6JDZ/vyl9iGp5Lih1OYUNsNA==", "20 bytes"},  // an {SSHA} value
      {"{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "and a salt"},
      {"{SSHA}KTofiscEmG6JDZ/vyl9iGp5Lih1OYUNsNA=", "invalid base64"},
      // bcrypt
      {"$2y$", "bcrypt"},
      {"$2y$04$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2", "bcrypt"},
      {"$2y$04$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2ii", "bcrypt"},
      {"$2y$4$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2ii", "bcrypt"},
      {"$2y$03$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2i", "outside 4..31"},
      {"$2y$15$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2i", "limit of 14"},
      {"$2y$31$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2i", "limit of 14"},
      // sha256crypt and sha512crypt
      {"$5$saltsalt$gOjOtoMpVhru2uyjeJSEc/JaLQWOXMNmlOnj6T4AtC", "43 characters"},
      {"$5$saltsalt", "salt"},
      {"$5$saltsaltsaltsaltsalt$gOjOtoMpVhru2uyjeJSEc/JaLQWOXMNmlOnj6T4AtC.", "salt"},
      {"$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/x",
       "86 characters"},
      {"$6$rounds=999$saltsalt$ZqOTO2O04D/DgwZlm.rZTgWxvBaIf4LQsZKtXFEu9UHJ4CvgmdLAGxKUzJ0mPO98OevETdY6oK/"
       "Oac6j2Axxq/",
       "below 1000"},
      {"$6$rounds=1000001$saltsalt$ZqOTO2O04D/DgwZlm.rZTgWxvBaIf4LQsZKtXFEu9UHJ4CvgmdLAGxKUzJ0mPO98OevETdY6oK/"
       "Oac6j2Axxq/",
       "limit of 1000000"},
      {"$6$rounds=010000$saltsalt$ZqOTO2O04D/DgwZlm.rZTgWxvBaIf4LQsZKtXFEu9UHJ4CvgmdLAGxKUzJ0mPO98OevETdY6oK/"
       "Oac6j2Axxq/",
       "rounds="},
      // yescrypt and scrypt
      {"$y$j9T$Tdi.hYJVg/iCXBIgRSEHo/$", "yescrypt"},
      {"$y$j9T$Tdi.hYJVg/iCXBIgRSEHo/", "yescrypt"},
      // mkpasswd -m yescrypt -R 11 'password': 1 GiB a verification.
      {"$y$jFT$6IWtfyDh4ofluwd5in6EB1$PlDiWPHQ8P0NhR6CXhAYVuhjnKyZPaJuZEVZS5n5nN9", "1024 MiB"},
      {"$y$j9TA$Tdi.hYJVg/iCXBIgRSEHo/$UGUGs23TYSflyXkdDvZN.ruLKdm5aR0m9UvEQKKFVE0", "not supported"},
      {"$7$CU..../0...wyODoLL1o4Tqx7x06szPW/$K3ICFopZnRYkMH1e3JXQr/VaXEjzTA7V0aZwsJ6QmY8", "limit of 64 MiB"},
      {"$7$DU..../....wyODoLL1o4Tqx7x06szPW/$K3ICFopZnRYkMH1e3JXQr/VaXEjzTA7V0aZwsJ6QmY8", "limit of 64 MiB"},
      {"$7$CU..../....wyODoLL1o4Tqx7x06szPW/$K3ICFopZnRYkMH1e3JXQr/VaXEjzTA7V0aZwsJ6QmY", "scrypt"},
      {"$7$CU...", "scrypt"},
      // md5crypt and DES
      {"$1$abcdefghi$G//4keteveJp0qb8z2DxG/", "md5crypt"},
      {"$1$abcdefgh$G//4keteveJp0qb8z2DxG", "md5crypt"},
      {"abJnggxhB/yW", "not a hash Pier knows"},
      {"abJnggxhB/yWI\r", "not a hash Pier knows"},
      {"abJnggxhB/yWI ", "not a hash Pier knows"},
      {"abJnggxhB/yWI\0"s, "not a hash Pier knows"},
      // Methods libxcrypt knows that Pier does not verify.
      {"$3$$8846f7eaee8fb117ad06bdd830b7586c", "does not verify"},                        // mkpasswd -m nt
      {"$md5,rounds=94347$Nvt.kZY2$$8YtsFPoqYvfMfp5kiAv6Z.", "does not verify"},          // mkpasswd -m sunmd5
      {"_J9..abcdIPPmXD22F8s", "does not verify"},                                        // bsdicrypt
  };
  for (const Refusal& refusal : refusals) {
    const auto scheme = ClassifyHash(refusal.hash);
    ASSERT_FALSE(scheme.ok()) << "accepted \"" << refusal.hash << "\"";
    EXPECT_NE(scheme.error().find(refusal.reason), std::string::npos)
        << "\"" << refusal.hash << "\": " << scheme.error();
    if (refusal.hash.size() > 8) {
      EXPECT_EQ(scheme.error().find(refusal.hash), std::string::npos) << "error quotes the hash: " << scheme.error();
    }
  }
}

TEST(ClassifyHash, AcceptsCostsUpToTheLimits) {
  // Classification alone: none of these is computed.
  EXPECT_EQ(*ClassifyHash("$2y$14$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2i"), HashScheme::kCrypt);
  EXPECT_EQ(*ClassifyHash("$6$rounds=1000000$saltsalt$ZqOTO2O04D/DgwZlm.rZTgWxvBaIf4LQsZKtXFEu9UHJ4CvgmdLAGxKUzJ0m"
                          "PO98OevETdY6oK/Oac6j2Axxq/"),
            HashScheme::kCrypt);
  // yescrypt N = 2^14, r = 32: 64 MiB.
  EXPECT_EQ(*ClassifyHash("$y$jBT$Tdi.hYJVg/iCXBIgRSEHo/$UGUGs23TYSflyXkdDvZN.ruLKdm5aR0m9UvEQKKFVE0"),
            HashScheme::kCrypt);
  EXPECT_FALSE(ClassifyHash("$y$jCT$Tdi.hYJVg/iCXBIgRSEHo/$UGUGs23TYSflyXkdDvZN.ruLKdm5aR0m9UvEQKKFVE0").ok());
  EXPECT_EQ(*ClassifyHash("$2x$04$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2i"), HashScheme::kCrypt);
}

std::vector<Credential> Users(std::initializer_list<Credential> users) { return users; }

TEST(ParseHtpasswd, ReadsUsersCommentsBlankLinesAndCrlf) {
  const HtpasswdFile file = ParseHtpasswd(
      "# made with htpasswd\r\n"
      "alice:$apr1$yeS5kXPa$qXdQws1ap2nMMZJfuj.mB1\r\n"
      "\r\n"
      "   \n"
      "carol:$2y$04$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2i\n"
      "#bob:{PLAIN}commented out\n"
      "erin:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=");  // no final newline
  EXPECT_EQ(file.users,
            Users({
                {"alice", "$apr1$yeS5kXPa$qXdQws1ap2nMMZJfuj.mB1", HashScheme::kApr1},
                {"carol", "$2y$04$v1WYSlW/PbVckTM70YnF7uyg/KpJCSQS5t82gOT4l3Sb7WZf26d2i", HashScheme::kCrypt},
                {"erin", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", HashScheme::kSha1},
            }));
  EXPECT_TRUE(file.problems.empty()) << file.problems.front();
  EXPECT_TRUE(VerifyPassword(file.users[0].hash, "hunter2"));
}

TEST(ParseHtpasswd, EmptyInput) {
  EXPECT_TRUE(ParseHtpasswd("").users.empty());
  EXPECT_TRUE(ParseHtpasswd("").problems.empty());
  EXPECT_TRUE(ParseHtpasswd("\n\r\n# nothing\n").users.empty());
  EXPECT_TRUE(ParseHtpasswd("\n\r\n# nothing\n").problems.empty());
}

TEST(ParseHtpasswd, ReadsTheLineAsNginxDoes) {
  // No trimming: spaces belong to the user and the hash, and the hash is all after the first ':'.
  const HtpasswdFile file = ParseHtpasswd(" bob :{PLAIN}pass word \ncarol:{PLAIN}a:b\n");
  EXPECT_EQ(file.users, Users({
                            {" bob ", "{PLAIN}pass word ", HashScheme::kPlain},
                            {"carol", "{PLAIN}a:b", HashScheme::kPlain},
                        }));
  EXPECT_TRUE(file.problems.empty());
}

TEST(ParseHtpasswd, RepeatedUserKeepsTheFirstLine) {
  const HtpasswdFile file = ParseHtpasswd(
      "bob:{PLAIN}first\n"
      "alice:{PLAIN}a\n"
      "bob:{PLAIN}second\n");
  EXPECT_EQ(file.users, Users({
                            {"bob", "{PLAIN}first", HashScheme::kPlain},
                            {"alice", "{PLAIN}a", HashScheme::kPlain},
                        }));
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_EQ(file.problems[0], "line 3: user \"bob\" repeats line 1, whose entry is the one used");
}

TEST(ParseHtpasswd, LockedFirstLineIsNotOverriddenByALaterOne) {
  // nginx matches the first line of a user; a locked first line must keep the user out.
  const HtpasswdFile file = ParseHtpasswd("bob:!\nbob:{PLAIN}second\n");
  EXPECT_TRUE(file.users.empty());
  ASSERT_EQ(file.problems.size(), 2u);
  EXPECT_TRUE(file.problems[0].starts_with("line 1: user \"bob\": unsupported hash: a locked entry"))
      << file.problems[0];
  EXPECT_EQ(file.problems[1], "line 2: user \"bob\" repeats line 1, whose entry is the one used");
}

TEST(ParseHtpasswd, SkipsMalformedLinesWithAProblemEach) {
  const std::string long_user(kMaxUserBytes + 1, 'u');
  const std::string longest_user(kMaxUserBytes, 'u');
  const HtpasswdFile file = ParseHtpasswd(
      "just-a-password-pasted-alone\n"
      ":{PLAIN}nobody\n"
      "tab\tuser:{PLAIN}x\n"
      "del\x7fuser:{PLAIN}x\n" +
      long_user + ":{PLAIN}x\n" + longest_user +
      ":{PLAIN}x\n"
      "dave:$2y$\n"
      "erin:\n"
      "ok:{PLAIN}fine\n");
  EXPECT_EQ(file.users, Users({
                            {longest_user, "{PLAIN}x", HashScheme::kPlain},
                            {"ok", "{PLAIN}fine", HashScheme::kPlain},
                        }));
  const std::vector<std::string> want = {
      "line 1: no ':' between user and hash",
      "line 2: empty user name",
      "line 3: user name holds a control character",
      "line 4: user name holds a control character",
      "line 5: user name longer than 255 bytes",
      "line 7: user \"dave\": unsupported hash: truncated or malformed bcrypt hash (not \"$2?$\", a two-digit cost, "
      "\"$\" and 53 characters)",
      "line 8: user \"erin\": unsupported hash: the hash is empty",
  };
  EXPECT_EQ(file.problems, want);
}

TEST(ParseHtpasswd, ProblemsNeverQuoteHashesOrPasswords) {
  const HtpasswdFile file = ParseHtpasswd(
      "SECRETPASSWORD\n"
      "a:{SHA}SECRETSECRETSECRET\n"
      "b:{SSHA}SECRET==\n"
      "c:$apr1$SECRET$SECRETSECRETSECRET\n"
      "d:$2y$04$SECRETSECRETSECRETSECRET\n"
      "e:$6$SECRET$SECRET\n"
      "f:$y$j9T$SECRET$SECRET\n"
      "g:$7$SECRET\n"
      "h:$1$SECRET\n"
      "i:SECRETSECRET\n"
      "j:SECRET\n"
      "k:!SECRET\n"
      "l:$SECRET$x\n"
      ":SECRET\n"
      "m\x01:SECRET\n"
      "n:{PLAIN}x\n"
      "n:{PLAIN}SECRET\n");
  EXPECT_EQ(file.problems.size(), 16u);
  for (const std::string& problem : file.problems) {
    EXPECT_EQ(problem.find("SECRET"), std::string::npos) << problem;
    EXPECT_EQ(problem.find("ECRE"), std::string::npos) << problem;
  }
}

std::string PlainUsers(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) text += "user" + std::to_string(i) + ":{PLAIN}x\n";
  return text;
}

TEST(ParseHtpasswd, StopsAfterTheUserLimit) {
  const HtpasswdFile at_limit = ParseHtpasswd(PlainUsers(static_cast<int>(kMaxHtpasswdUsers)));
  EXPECT_EQ(at_limit.users.size(), kMaxHtpasswdUsers);
  EXPECT_TRUE(at_limit.problems.empty());

  const HtpasswdFile over = ParseHtpasswd(PlainUsers(static_cast<int>(kMaxHtpasswdUsers) + 5));
  EXPECT_EQ(over.users.size(), kMaxHtpasswdUsers);
  EXPECT_EQ(over.users.back().user, "user9999");
  ASSERT_EQ(over.problems.size(), 1u);
  EXPECT_EQ(over.problems[0], "line 10001: more than 10000 users: the rest of the file is ignored");
}

TEST(ParseHtpasswd, ReadsOnlyTheWholeLinesOfTheFirstMebibyte) {
  // A comment filling the file up to 10 bytes before the limit, then a line across it: cut there,
  // it would still parse, as user "zed" with a shorter {PLAIN} password.
  std::string text = "alice:{PLAIN}a\n#";
  text += std::string(kMaxHtpasswdBytes - 10 - text.size() - 1, 'c');
  text += "\n";
  ASSERT_EQ(text.size(), kMaxHtpasswdBytes - 10);
  text += "zed:{PLAIN}longer than ten bytes\nbob:{PLAIN}b\n";
  const HtpasswdFile file = ParseHtpasswd(text);
  EXPECT_EQ(file.users, Users({{"alice", "{PLAIN}a", HashScheme::kPlain}}));
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_EQ(file.problems[0], "larger than 1 MiB: only the first 2 lines are read");

  // Exactly at the limit, everything is read.
  std::string exact = "alice:{PLAIN}a\n#";
  exact += std::string(kMaxHtpasswdBytes - exact.size() - 1, 'c');
  exact += "\n";
  ASSERT_EQ(exact.size(), kMaxHtpasswdBytes);
  EXPECT_TRUE(ParseHtpasswd(exact).problems.empty());
  EXPECT_EQ(ParseHtpasswd(exact).users.size(), 1u);
}

TEST(ParseHtpasswd, ListsAtMostAHundredProblems) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += "no colon here\n";
  text += "ok:{PLAIN}x\n";
  const HtpasswdFile file = ParseHtpasswd(text);
  EXPECT_EQ(file.users.size(), 1u);
  ASSERT_EQ(file.problems.size(), kMaxHtpasswdProblems + 1);
  EXPECT_EQ(file.problems[99], "line 100: no ':' between user and hash");
  EXPECT_EQ(file.problems.back(), "50 more problems not listed");
}

}  // namespace
}  // namespace pier::auth
