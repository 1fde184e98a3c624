#include "annotations/value_parsers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pier::annotations {
namespace {

using Strings = std::vector<std::string>;

TEST(RedirectUrl, UrlsAndPathsAsDataWithOnlyATrailingRequestUri) {
  EXPECT_EQ(*RedirectUrl("https://new.example.com/docs?x=1#top"), (RedirectTarget{"https://new.example.com/docs?x=1#top", false}));
  EXPECT_EQ(*RedirectUrl("HTTP://a.example:8080"), (RedirectTarget{"HTTP://a.example:8080", false}));
  EXPECT_EQ(*RedirectUrl("https://new.example.com$request_uri"), (RedirectTarget{"https://new.example.com", true}));
  EXPECT_EQ(*RedirectUrl("/moved"), (RedirectTarget{"/moved", false}));
  for (const char* bad : {"", "$request_uri", "new.example.com", "ftp://x.example", "https://", "https:///path",
                          "//evil.example/", "https://a.example/$host", "https://$host$request_uri",
                          "https://a.example/a b", "https://a.example/\r\nSet-Cookie: x", "https://a.example/\"x\"",
                          "https://a.example/{x}", "javascript:alert(1)"}) {
    EXPECT_FALSE(RedirectUrl(bad).ok()) << bad;
  }
  EXPECT_FALSE(RedirectUrl("https://a.example/" + std::string(2048, 'x')).ok());
}

TEST(AppRoot, APathOnly) {
  EXPECT_EQ(*AppRoot("/app"), "/app");
  EXPECT_EQ(*AppRoot("/app/?tab=1"), "/app/?tab=1");
  for (const char* bad : {"", "app", "https://a.example/app", "//a.example", "/a b", "/$uri"}) {
    EXPECT_FALSE(AppRoot(bad).ok()) << bad;
  }
}

TEST(UpstreamHost, HostOrAddressWithAnOptionalPort) {
  EXPECT_EQ(*UpstreamHost("Internal.SVC"), "internal.svc");
  EXPECT_EQ(*UpstreamHost("internal.svc:8080"), "internal.svc:8080");
  EXPECT_EQ(*UpstreamHost("10.0.0.1:443"), "10.0.0.1:443");
  EXPECT_EQ(*UpstreamHost("[2001:db8::1]:8443"), "[2001:db8::1]:8443");
  EXPECT_EQ(*UpstreamHost("[2001:DB8::1]"), "[2001:db8::1]");
  for (const char* bad : {"", "$host", "a.example/path", "a.example:", "a.example:0", "a.example:65536",
                          "a.example:080", "a b", "a.example\r\nX: y", "[2001:db8::1", "[nothost]:80", "2001:db8::1",
                          "-a.example", "a.example:80:90", "user@a.example"}) {
    EXPECT_FALSE(UpstreamHost(bad).ok()) << bad;
  }
}

TEST(TokenList, TokensJoinedAsSent) {
  EXPECT_EQ(*TokenList("GET,POST", false), "GET, POST");
  EXPECT_EQ(*TokenList(" X-Custom , Content-Type ", false), "X-Custom, Content-Type");
  EXPECT_EQ(*TokenList("*", true), "*");
  EXPECT_FALSE(TokenList("*", false).ok());
  for (const char* bad : {"", "GET,,POST", "X a", "X\r\nY: z", "a;b", "\"x\"", "a:b"}) {
    EXPECT_FALSE(TokenList(bad, true).ok()) << bad;
  }
}

TEST(RedirectCode, TheRedirectStatusesOnly) {
  for (uint32_t code : {300u, 301u, 302u, 303u, 307u, 308u}) EXPECT_EQ(*RedirectCode(std::to_string(code)), code);
  for (const char* bad : {"200", "304", "305", "306", "309", "3O1", ""}) EXPECT_FALSE(RedirectCode(bad).ok()) << bad;
}

TEST(CommaList, SplitsAndTrims) {
  EXPECT_EQ(*CommaList("a, b ,c"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(*CommaList("a"), (Strings{"a"}));
  EXPECT_FALSE(CommaList("").ok());
  EXPECT_FALSE(CommaList("a,,b").ok());
  EXPECT_FALSE(CommaList("a,").ok());
}

TEST(ServiceNames, Dns1035LabelsSortedAndUnique) {
  EXPECT_EQ(*ServiceNames("chat, api,chat"), (Strings{"api", "chat"}));
  const std::string too_long(64, 'a');
  for (const std::string bad : {"", "Chat", "1chat", "chat-", "chat_api", "a.b", "chat,"}) {
    EXPECT_FALSE(ServiceNames(bad).ok()) << bad;
  }
  EXPECT_FALSE(ServiceNames(too_long).ok());
  EXPECT_TRUE(ServiceNames(std::string(63, 'a')).ok());
}

TEST(Origins, NormalisedAndValidated) {
  EXPECT_EQ(*Origins("https://App.Example.com, http://localhost:3000,https://*.example.com"),
            (Strings{"http://localhost:3000", "https://*.example.com", "https://app.example.com"}));
  EXPECT_TRUE(Origins("*")->empty()) << "\"*\" means any origin";
  for (const char* bad : {"", "app.example.com", "ftp://a.example", "https://", "https://a.example/",
                          "https://a.example/path", "https://a.example:0", "https://a.example:99999",
                          "https://a.example:x", "https://a..example", "https://a.*.example", "*,https://a.example",
                          "https://a b"}) {
    EXPECT_FALSE(Origins(bad).ok()) << bad;
  }
}

TEST(Count, RangeChecked) {
  EXPECT_EQ(*Count("10", 1, 100), 10u);
  EXPECT_EQ(*Count("1", 1, 100), 1u);
  EXPECT_EQ(*Count("100", 1, 100), 100u);
  for (const char* bad : {"", "0", "101", "-1", "1.5", "ten", " 5", "99999999999999999999999"}) {
    auto result = Count(bad, 1, 100);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_NE(result.error().find(std::string("\"") + bad + "\""), std::string::npos);
  }
}

TEST(HashKey, NginxVariables) {
  EXPECT_EQ(*HashKey("$remote_addr"), (HashBy{HashBy::Source::kRemoteAddr, ""}));
  EXPECT_EQ(*HashKey("$binary_remote_addr"), (HashBy{HashBy::Source::kRemoteAddr, ""}));
  EXPECT_EQ(*HashKey("$http_X_User_Id"), (HashBy{HashBy::Source::kHeader, "x-user-id"}));
  EXPECT_EQ(*HashKey("$cookie_session"), (HashBy{HashBy::Source::kCookie, "session"}));
  EXPECT_EQ(*HashKey("$arg_room"), (HashBy{HashBy::Source::kQueryArg, "room"}));
  for (const char* bad : {"", "$request_uri", "$http_", "$cookie_a;b", "remote_addr", "$arg_a b"}) {
    EXPECT_FALSE(HashKey(bad).ok()) << bad;
  }
}

TEST(CookieAttributes, RejectInjection) {
  EXPECT_EQ(*CookieName("PIER_AFFINITY"), "PIER_AFFINITY");
  EXPECT_FALSE(CookieName("a;b").ok());
  EXPECT_FALSE(CookieName("a=b").ok());
  EXPECT_FALSE(CookieName("").ok());
  EXPECT_FALSE(CookieName("a\r\nSet-Cookie: x").ok());

  EXPECT_EQ(*CookiePath("/chat"), "/chat");
  EXPECT_FALSE(CookiePath("chat").ok());
  EXPECT_FALSE(CookiePath("/a;Domain=evil").ok());
  EXPECT_FALSE(CookiePath("/a b").ok());

  EXPECT_EQ(*CookieDomain(".Example.com"), ".example.com");
  EXPECT_EQ(*CookieDomain("example.com"), "example.com");
  EXPECT_FALSE(CookieDomain("example.com;x").ok());
  EXPECT_FALSE(CookieDomain("").ok());

  EXPECT_EQ(*SameSite("lax"), "Lax");
  EXPECT_EQ(*SameSite("STRICT"), "Strict");
  EXPECT_EQ(*SameSite("None"), "None");
  EXPECT_FALSE(SameSite("sometimes").ok());
}

TEST(SecretReference, NameOrNamespaceSlashName) {
  EXPECT_EQ(*SecretReference("ca"), (SecretRef{"", "ca"}));
  EXPECT_EQ(*SecretReference("certs/backend.ca"), (SecretRef{"certs", "backend.ca"}));
  for (const char* bad : {"", "/ca", "certs/", "a/b/c", "Certs/ca", "ca;x", "a.b/ca", "ca cert"}) {
    EXPECT_FALSE(SecretReference(bad).ok()) << bad;
  }
}

TEST(ServerName, IsAHostNameLowercased) {
  EXPECT_EQ(*ServerName("Chat.Default.svc"), "chat.default.svc");
  for (const char* bad : {"", "*.example.com", "a b", "example.com:443", "-a.example"}) EXPECT_FALSE(ServerName(bad).ok()) << bad;
}

TEST(TlsProtocols, ARangeOfWhatPierSpeaks) {
  using Range = std::pair<uint32_t, uint32_t>;
  EXPECT_EQ(*TlsProtocols("TLSv1.2 TLSv1.3"), (Range{0x0303, 0x0304}));
  EXPECT_EQ(*TlsProtocols("TLSv1.2"), (Range{0x0303, 0x0303}));
  EXPECT_EQ(*TlsProtocols("\tTLSv1.3 "), (Range{0x0304, 0x0304}));
  EXPECT_EQ(*TlsProtocols("TLSv1 TLSv1.1 TLSv1.2"), (Range{0x0303, 0x0303}));
  for (const char* bad : {"", "TLSv1", "TLSv1 TLSv1.1", "tlsv1.2", "TLSv1.2,TLSv1.3", "SSLv3", "TLSv1.4"}) {
    EXPECT_FALSE(TlsProtocols(bad).ok()) << bad;
  }
}

TEST(OnOff, AcceptsNginxAndBoolSpellings) {
  EXPECT_TRUE(*OnOff("on"));
  EXPECT_TRUE(*OnOff("TRUE"));
  EXPECT_FALSE(*OnOff("off"));
  EXPECT_FALSE(*OnOff("false"));
  EXPECT_FALSE(OnOff("1").ok());
  EXPECT_FALSE(OnOff("").ok());
}

}  // namespace
}  // namespace pier::annotations
