// ParseClientHello: the SNI of real ClientHellos written by OpenSSL (whole, in pieces, split
// over records), and the refusal of everything that is not a well-formed one.
#include "tls/client_hello.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace pier::dataplane::tls {
namespace {

using Status = ClientHello::Status;

struct ClientOptions {
  const char* server_name = "Example.TEST";  // nullptr: no SNI
  int max_version = 0;                       // 0: OpenSSL's highest
};

// The bytes an OpenSSL client writes first: its ClientHello, in one record.
std::string OpenSslClientHello(ClientOptions options = {}) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return "";
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(ctx.get(), options.max_version);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) return "";
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // owned by `ssl` from here
  if (options.server_name != nullptr) SSL_set_tlsext_host_name(ssl.get(), options.server_name);
  const int result = SSL_connect(ssl.get());
  if (result > 0 || SSL_get_error(ssl.get(), result) != SSL_ERROR_WANT_READ) return "";
  std::string bytes(static_cast<std::size_t>(BIO_pending(out)), '\0');
  const int read = BIO_read(out, bytes.data(), static_cast<int>(bytes.size()));
  bytes.resize(read > 0 ? static_cast<std::size_t>(read) : 0);
  return bytes;
}

std::string U8(std::size_t value) { return std::string(1, static_cast<char>(value & 0xff)); }
std::string U16(std::size_t value) { return U8(value >> 8) + U8(value); }
std::string U24(std::size_t value) { return U8(value >> 16) + U16(value); }
std::string Vector8(const std::string& bytes) { return U8(bytes.size()) + bytes; }
std::string Vector16(const std::string& bytes) { return U16(bytes.size()) + bytes; }

std::string Record(const std::string& fragment, unsigned type = 22, unsigned version = 0x0301) {
  return U8(type) + U16(version) + U16(fragment.size()) + fragment;
}

std::string Handshake(const std::string& body, unsigned type = 1) { return U8(type) + U24(body.size()) + body; }

// The handshake message carried by `bytes`' first record (OpenSSL writes it in one).
std::string FirstMessage(const std::string& bytes) {
  if (bytes.size() < 5) return "";
  const std::size_t length = static_cast<unsigned char>(bytes[3]) << 8 | static_cast<unsigned char>(bytes[4]);
  return bytes.substr(5, length);
}

// `message` in one record per piece, cut at the given offsets.
std::string Rerecord(const std::string& message, std::initializer_list<std::size_t> cuts) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    out += Record(message.substr(from, cut - from));
    from = cut;
  }
  return out + Record(message.substr(from));
}

// A ClientHello built by hand, each field replaceable.
struct HelloBuilder {
  std::string version = U16(0x0303);
  std::string random = std::string(32, 'r');
  std::string session_id = Vector8(std::string(32, 's'));
  std::string cipher_suites = Vector16(U16(0x1301) + U16(0x1302));
  std::string compression_methods = Vector8(U8(0));
  std::vector<std::string> extensions = {Extension(0x002b, Vector8(U16(0x0304)))};
  bool has_extensions = true;
  int extensions_length_delta = 0;

  static std::string Extension(unsigned type, const std::string& data) { return U16(type) + Vector16(data); }
  static std::string HostName(const std::string& name) { return U8(0) + Vector16(name); }
  static std::string ServerName(std::initializer_list<std::string> entries) {
    std::string list;
    for (const auto& entry : entries) list += entry;
    return Extension(0, Vector16(list));
  }
  HelloBuilder& Add(std::string extension) {
    extensions.push_back(std::move(extension));
    return *this;
  }
  HelloBuilder& Sni(const std::string& name) { return Add(ServerName({HostName(name)})); }

  std::string Body() const {
    std::string body = version + random + session_id + cipher_suites + compression_methods;
    if (!has_extensions) return body;
    std::string block;
    for (const auto& extension : extensions) block += extension;
    return body + U16(block.size() + extensions_length_delta) + block;
  }
  std::string Bytes() const { return Record(Handshake(Body())); }
};

ClientHello Parse(const std::string& bytes) { return ParseClientHello(bytes); }

void ExpectName(const std::string& bytes, const std::string& name) {
  const ClientHello hello = Parse(bytes);
  EXPECT_EQ(hello.status, Status::kDone) << hello.error;
  EXPECT_EQ(hello.server_name, name);
}

void ExpectInvalid(const std::string& bytes) {
  const ClientHello hello = Parse(bytes);
  EXPECT_EQ(hello.status, Status::kInvalid);
  EXPECT_FALSE(hello.error.empty());
  EXPECT_TRUE(hello.server_name.empty());
}

void ExpectPrefixesNeedMore(const std::string& bytes) {
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const ClientHello hello = Parse(bytes.substr(0, n));
    ASSERT_EQ(hello.status, Status::kNeedMore) << "prefix of " << n << " bytes: " << hello.error;
  }
}

TEST(ClientHelloTest, RealHelloNamesItsServerInLowercase) {
  const std::string bytes = OpenSslClientHello();
  ASSERT_GT(bytes.size(), 100u);
  ExpectName(bytes, "example.test");
}

TEST(ClientHelloTest, EveryProperPrefixNeedsMore) { ExpectPrefixesNeedMore(OpenSslClientHello()); }

TEST(ClientHelloTest, BytesAfterTheHelloDoNotMatter) {
  const std::string bytes = OpenSslClientHello();
  ExpectName(bytes + "GET / HTTP/1.1\r\n", "example.test");
  ExpectName(bytes + Record("\x01\x02", 23), "example.test");
  ExpectName(bytes + std::string(1, '\x16'), "example.test");
}

TEST(ClientHelloTest, HelloWithoutSniIsDoneWithNoName) {
  const std::string bytes = OpenSslClientHello({.server_name = nullptr});
  ASSERT_FALSE(bytes.empty());
  ExpectName(bytes, "");
  ExpectPrefixesNeedMore(bytes);
}

TEST(ClientHelloTest, Tls12OnlyClient) {
  const std::string bytes = OpenSslClientHello({.server_name = "Www.Example.Org", .max_version = TLS1_2_VERSION});
  ASSERT_FALSE(bytes.empty());
  ExpectName(bytes, "www.example.org");
}

TEST(ClientHelloTest, HelloSplitOverRecords) {
  const std::string message = FirstMessage(OpenSslClientHello());
  ASSERT_GT(message.size(), 100u);
  const std::size_t middle = message.size() / 2;
  for (const std::string& bytes : {Rerecord(message, {middle}), Rerecord(message, {40, message.size() - 1}),
                                   Rerecord(message, {2, middle}), Rerecord(message, {1, 2, 3}),
                                   Rerecord(message, {4})}) {
    ExpectName(bytes, "example.test");
    ExpectName(bytes + "trailing", "example.test");
    ExpectPrefixesNeedMore(bytes);
  }
}

TEST(ClientHelloTest, WhatIsNotATlsHandshakeIsInvalidAtOnce) {
  ExpectInvalid("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
  ExpectInvalid("G");
  ExpectInvalid(std::string("\x80\x2e\x01\x00\x02", 5));  // SSLv2-compatible hello
  ExpectInvalid(std::string("\x80", 1));
  ExpectInvalid(Record("data", 23));  // application data
  ExpectInvalid(std::string("\x17", 1));
  ExpectInvalid(std::string("\x16\x02", 2));  // record version 2.x
  ExpectInvalid(U8(22) + U16(0x0301) + U16(0));  // empty record
  ExpectInvalid(U8(22) + U16(0x0301) + U16(16385));
  ExpectInvalid(Record(Handshake("server hello", 2)));  // a ServerHello
  ExpectInvalid(U8(22) + U16(0x0301) + U16(100) + U8(2));
  // A second record that is not a handshake record, in the middle of the message.
  const std::string message = FirstMessage(OpenSslClientHello());
  const std::string split = Rerecord(message, {50});
  const std::size_t second = 5 + 50;
  ExpectInvalid(split.substr(0, second) + Record(message.substr(50), 23));
  ExpectInvalid(split.substr(0, second) + "\x15");
}

TEST(ClientHelloTest, AnyRecordVersion3xIsTaken) {
  const std::string message = FirstMessage(OpenSslClientHello());
  for (unsigned version : {0x0300u, 0x0301u, 0x0303u, 0x0304u, 0x03ffu}) {
    ExpectName(Record(message, 22, version), "example.test");
  }
}

TEST(ClientHelloTest, HelloLongerThanTheLimitIsInvalidFromItsLength) {
  // Declared at once in the handshake header; nothing more has to arrive.
  ExpectInvalid(U8(22) + U16(0x0301) + U16(16384) + U8(1) + U24(kMaxClientHelloBytes));
  ExpectInvalid(U8(22) + U16(0x0301) + U16(16384) + U8(1) + U24(0xffffff));
  // At the limit: one record whose message ends at exactly kMaxClientHelloBytes is read; a
  // byte more is not. The padding extension (21) sizes the message.
  const std::size_t base = HelloBuilder().Sni("a.example").Bytes().size();
  const std::size_t padding = kMaxClientHelloBytes - base - 4;
  const std::string fits = HelloBuilder().Sni("a.example").Add(HelloBuilder::Extension(21, std::string(padding, '\0'))).Bytes();
  ASSERT_EQ(fits.size(), kMaxClientHelloBytes);
  ExpectName(fits, "a.example");
  const std::string over =
      HelloBuilder().Sni("a.example").Add(HelloBuilder::Extension(21, std::string(padding + 1, '\0'))).Bytes();
  ExpectInvalid(over);
  ExpectInvalid(over.substr(0, 9));
  // Split in two records, the second header counts too.
  const std::string message = FirstMessage(fits);
  ExpectInvalid(Rerecord(message, {100}));
}

TEST(ClientHelloTest, HandBuiltHelloIsTaken) {
  ExpectName(HelloBuilder().Sni("Host-1_a.Example.COM").Bytes(), "host-1_a.example.com");
  ExpectName(HelloBuilder().Bytes(), "");
  HelloBuilder no_extensions;
  no_extensions.has_extensions = false;
  ExpectName(no_extensions.Bytes(), "");
  HelloBuilder empty_extensions;
  empty_extensions.extensions.clear();
  ExpectName(empty_extensions.Bytes(), "");
  HelloBuilder no_session;
  no_session.session_id = Vector8("");
  ExpectName(no_session.Sni("x").Bytes(), "x");
  ExpectName(HelloBuilder().Sni(std::string(255, 'a')).Bytes(), std::string(255, 'a'));
  // The first host_name entry; entries of other types are skipped.
  ExpectName(HelloBuilder()
                 .Add(HelloBuilder::ServerName({U8(7) + Vector16("other"), HelloBuilder::HostName("first.test"),
                                                HelloBuilder::HostName("second.test")}))
                 .Bytes(),
             "first.test");
  ExpectName(HelloBuilder().Add(HelloBuilder::ServerName({U8(7) + Vector16("other")})).Bytes(), "");
}

TEST(ClientHelloTest, HandBuiltMalformedHellosAreInvalid) {
  for (const char* name : {"bad host", "a/b", "a..b", ".a", "a.", ".", "host:443", "caf\xc3\xa9.test", "a\nb"}) {
    SCOPED_TRACE(name);
    ExpectInvalid(HelloBuilder().Sni(name).Bytes());
  }
  ExpectInvalid(HelloBuilder().Sni(std::string("a\0b", 3)).Bytes());
  ExpectInvalid(HelloBuilder().Sni("").Bytes());
  ExpectInvalid(HelloBuilder().Sni(std::string(256, 'a')).Bytes());
  ExpectInvalid(HelloBuilder().Sni("one.test").Sni("two.test").Bytes());
  ExpectInvalid(HelloBuilder().Sni("one.test").Add(HelloBuilder::Extension(0, "")).Bytes());
  ExpectInvalid(HelloBuilder().Add(HelloBuilder::Extension(0, Vector16(""))).Bytes());  // empty list
  ExpectInvalid(HelloBuilder().Add(HelloBuilder::Extension(0, Vector16(HelloBuilder::HostName("a.test")) + "x")).Bytes());
  ExpectInvalid(HelloBuilder().Add(HelloBuilder::Extension(0, U16(20) + HelloBuilder::HostName("a.test"))).Bytes());
  ExpectInvalid(HelloBuilder().Add(HelloBuilder::ServerName({U8(0) + U16(10) + "short"})).Bytes());
  for (int delta : {-1, 1, 100}) {
    HelloBuilder hello;
    hello.extensions_length_delta = delta;
    ExpectInvalid(hello.Sni("a.test").Bytes());
  }
  HelloBuilder long_session;
  long_session.session_id = Vector8(std::string(33, 's'));
  ExpectInvalid(long_session.Sni("a.test").Bytes());
  HelloBuilder odd_suites;
  odd_suites.cipher_suites = Vector16(U16(0x1301) + U8(0x13));
  ExpectInvalid(odd_suites.Sni("a.test").Bytes());
  HelloBuilder no_suites;
  no_suites.cipher_suites = Vector16("");
  ExpectInvalid(no_suites.Sni("a.test").Bytes());
  HelloBuilder no_compression;
  no_compression.compression_methods = Vector8("");
  ExpectInvalid(no_compression.Sni("a.test").Bytes());
  HelloBuilder one_byte_after;
  one_byte_after.has_extensions = false;
  ExpectInvalid(Record(Handshake(one_byte_after.Body() + U8(0))));
  ExpectInvalid(Record(Handshake("")));
  ExpectInvalid(Record(Handshake(std::string(33, '\0'))));
  // An extension header that does not fit in the block.
  HelloBuilder truncated_extension;
  truncated_extension.extensions = {U16(0x002b) + U16(5) + "ab"};
  ExpectInvalid(truncated_extension.Bytes());
}

// The real hello's body, cut anywhere in its extensions with every outer length fixed up: the
// extensions block no longer matches, so the hello is invalid; never read past the cut.
TEST(ClientHelloTest, EveryCutInTheExtensionsIsInvalid) {
  const std::string message = FirstMessage(OpenSslClientHello());
  const std::string body = message.substr(4);
  std::size_t at = 34;
  at += 1 + static_cast<unsigned char>(body[at]);
  at += 2 + (static_cast<unsigned char>(body[at]) << 8 | static_cast<unsigned char>(body[at + 1]));
  at += 1 + static_cast<unsigned char>(body[at]);
  ASSERT_LT(at, body.size());
  ExpectName(Record(Handshake(body.substr(0, at))), "");  // no extensions at all
  for (std::size_t cut = at + 1; cut < body.size(); ++cut) {
    // A copy of exactly the cut body, so a read past it is a sanitizer report.
    const std::unique_ptr<char[]> exact(new char[5 + 4 + cut]);
    const std::string bytes = Record(Handshake(body.substr(0, cut)));
    std::copy(bytes.begin(), bytes.end(), exact.get());
    const ClientHello hello = ParseClientHello(std::string_view(exact.get(), bytes.size()));
    ASSERT_EQ(hello.status, Status::kInvalid) << "cut at " << cut;
  }
}

bool IsLowercaseHost(const std::string& name) {
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) return false;
  }
  return name.size() <= 255;
}

TEST(ClientHelloTest, RandomMutationsOfARealHelloAreSafe) {
  const std::string original = OpenSslClientHello();
  const std::string message = FirstMessage(original);
  const std::vector<std::string> seeds = {original, Rerecord(message, {message.size() / 3, message.size() / 2})};
  std::mt19937 random(20240611);
  int done = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string bytes = seeds[round % seeds.size()];
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) bytes[random() % bytes.size()] = static_cast<char>(random() & 0xff);
    // Exactly sized, whole and at a random cut.
    const std::size_t cut = random() % (bytes.size() + 1);
    for (std::size_t size : {bytes.size(), cut}) {
      const std::unique_ptr<char[]> exact(new char[size + 1]);
      std::copy_n(bytes.begin(), size, exact.get());
      const ClientHello hello = ParseClientHello(std::string_view(exact.get(), size));
      if (hello.status == Status::kDone) {
        ++done;
        EXPECT_TRUE(IsLowercaseHost(hello.server_name)) << hello.server_name;
      } else if (hello.status == Status::kInvalid) {
        EXPECT_FALSE(hello.error.empty());
      }
    }
  }
  EXPECT_GT(done, 0);  // mutations of the random and the key shares leave the hello whole
}

}  // namespace
}  // namespace pier::dataplane::tls
