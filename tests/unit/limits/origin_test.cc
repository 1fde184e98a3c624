#include "limits/origin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pier::dataplane::limits {
namespace {

bool Allowed(std::string_view origin, std::vector<std::string> allowed) { return OriginAllowed(origin, allowed); }

TEST(Origin, ParsesSchemeHostAndImpliedPort) {
  EXPECT_EQ(ParseOrigin("https://App.Example.com"), (ParsedOrigin{"https", "app.example.com", 443}));
  EXPECT_EQ(ParseOrigin("http://a.com"), (ParsedOrigin{"http", "a.com", 80}));
  EXPECT_EQ(ParseOrigin("http://a.com:8080"), (ParsedOrigin{"http", "a.com", 8080}));
  EXPECT_EQ(ParseOrigin("http://127.0.0.1:3000"), (ParsedOrigin{"http", "127.0.0.1", 3000}));
  EXPECT_EQ(ParseOrigin("http://[::1]:8080"), (ParsedOrigin{"http", "[::1]", 8080}));
  EXPECT_EQ(ParseOrigin("https://a.com/"), (ParsedOrigin{"https", "a.com", 443}));
}

TEST(Origin, RejectsWhatIsNotAnOrigin) {
  for (const char* text : {"", "null", "a.com", "ftp://a.com", "https://", "https://a.com/path", "https://a.com:",
                           "https://a.com:0", "https://a.com:65536", "https://a.com:80x", "https://a..com",
                           "https://.a.com", "https://a.com.", "https://us er@a.com", "https://a.com?x",
                           "https://[::1", "https://[::1]x", "https://[zz]", "https://a.com#frag"}) {
    EXPECT_FALSE(ParseOrigin(text).has_value()) << text;
  }
}

TEST(Origin, ExactEntriesMatchCaseInsensitively) {
  const std::vector<std::string> allowed = {"https://app.example.com", "http://localhost:3000"};
  EXPECT_TRUE(Allowed("https://app.example.com", allowed));
  EXPECT_TRUE(Allowed("HTTPS://APP.EXAMPLE.COM", allowed));
  EXPECT_TRUE(Allowed("http://localhost:3000", allowed));
  EXPECT_FALSE(Allowed("http://app.example.com", allowed));      // scheme differs
  EXPECT_FALSE(Allowed("https://evil.example.com", allowed));    // host differs
  EXPECT_FALSE(Allowed("https://app.example.com.evil.com", allowed));
  EXPECT_FALSE(Allowed("http://localhost:3001", allowed));       // port differs
  EXPECT_FALSE(Allowed("http://localhost", allowed));
}

TEST(Origin, DefaultPortsAreNormalized) {
  EXPECT_TRUE(Allowed("https://a.com:443", {"https://a.com"}));
  EXPECT_TRUE(Allowed("https://a.com", {"https://a.com:443"}));
  EXPECT_TRUE(Allowed("http://a.com:80", {"http://a.com"}));
  EXPECT_FALSE(Allowed("https://a.com:80", {"https://a.com"}));
  EXPECT_FALSE(Allowed("http://a.com:443", {"https://a.com"}));
}

TEST(Origin, WildcardMatchesExactlyOneLabel) {
  const std::vector<std::string> allowed = {"https://*.example.com"};
  EXPECT_TRUE(Allowed("https://app.example.com", allowed));
  EXPECT_TRUE(Allowed("https://APP.example.com:443", allowed));
  EXPECT_FALSE(Allowed("https://example.com", allowed));
  EXPECT_FALSE(Allowed("https://a.b.example.com", allowed));
  EXPECT_FALSE(Allowed("https://app.example.com.evil.com", allowed));
  EXPECT_FALSE(Allowed("https://appexample.com", allowed));
  EXPECT_FALSE(Allowed("http://app.example.com", allowed));
  EXPECT_FALSE(Allowed("https://*.example.com", allowed));  // a pattern is not an origin
  EXPECT_TRUE(Allowed("http://x.example.com:8443", {"http://*.example.com:8443"}));
  EXPECT_FALSE(Allowed("http://x.example.com", {"http://*.example.com:8443"}));
}

TEST(Origin, MissingOrOpaqueOriginMatchesNothing) {
  const std::vector<std::string> allowed = {"https://a.com", "https://*.a.com"};
  EXPECT_FALSE(Allowed("", allowed));
  EXPECT_FALSE(Allowed("null", allowed));
  // Two Origin headers joined: neither is taken.
  EXPECT_FALSE(Allowed("https://a.com,https://a.com", allowed));
}

TEST(Origin, AnUnparseableEntryFailsClosed) {
  EXPECT_FALSE(Allowed("https://a.com", {"a.com"}));
  EXPECT_FALSE(Allowed("https://a.com", {}));
  EXPECT_TRUE(Allowed("https://a.com", {"garbage", "https://a.com"}));
}

}  // namespace
}  // namespace pier::dataplane::limits
