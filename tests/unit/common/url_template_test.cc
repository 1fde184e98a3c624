// auth-url and auth-signin templates: only known variables, typed values, exact splitting.
#include "pier/common/url_template.h"

#include <gtest/gtest.h>

namespace pier::url_template {
namespace {

Values Sample() { return {"app.example", "App.Example:8443", "https", "/a b?x=1&y=é"}; }

TEST(UrlTemplate, ExpandsEveryVariable) {
  auto url = Parse("https://$host/oauth2/start?rd=$escaped_request_uri&h=${http_host}&s=$scheme&u=$request_uri");
  ASSERT_TRUE(url.ok()) << url.error();
  EXPECT_EQ(Expand(*url, Sample()),
            "https://app.example/oauth2/start?rd=%2Fa%20b%3Fx%3D1%26y%3D%C3%A9&h=App.Example:8443&s=https&u=/a%20b?x=1&y=%C3%A9");
  EXPECT_TRUE(url->Uses(Variable::kHost));
  EXPECT_FALSE(Parse("http://a/$best_http_host$pass_access_scheme")->Uses(Variable::kHost));
  EXPECT_EQ(Expand(*Parse("http://a/$best_http_host/$pass_access_scheme"), Sample()), "http://a/App.Example:8443/https");
}

TEST(UrlTemplate, AValueCannotSplitWhatItIsExpandedInto) {
  auto url = Parse("http://auth/check?h=$http_host&u=$request_uri");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(Expand(*url, {"a", "a b\r\nX: y", "http", "/\x7f\xff"}), "http://auth/check?h=a%20b%0D%0AX:%20y&u=/%7F%FF");
}

TEST(UrlTemplate, PlainTextStaysAsItIs) {
  auto url = Parse("http://auth.svc:4180/oauth2/auth");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(Expand(*url, Sample()), "http://auth.svc:4180/oauth2/auth");
  EXPECT_FALSE(url->Uses(Variable::kRequestUri));
}

TEST(UrlTemplate, UnknownVariablesAndUnsafeBytesAreRefused) {
  EXPECT_FALSE(Parse("http://a/$remote_addr").ok());
  EXPECT_FALSE(Parse("http://a/$hostx").ok());
  EXPECT_FALSE(Parse("http://a/$").ok());
  EXPECT_FALSE(Parse("http://a/${host").ok());
  EXPECT_FALSE(Parse("http://a/$HOST").ok());
  EXPECT_FALSE(Parse("http://a/ b").ok());
  EXPECT_FALSE(Parse("http://a/\r\nX: y").ok());
  EXPECT_FALSE(Parse("http://a/\xc3\xa9").ok());
  EXPECT_FALSE(Parse(std::string(3000, 'a')).ok());
  EXPECT_TRUE(Parse("http://a/${host}x").ok());
}

TEST(UrlTemplate, SplitsAbsoluteUrls) {
  auto url = SplitAbsolute("https://Auth.Example:8443/check?x=$request_uri");
  ASSERT_TRUE(url.ok()) << url.error();
  EXPECT_TRUE(url->https);
  EXPECT_EQ(url->host, "auth.example");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->target, "/check?x=$request_uri");
  url = SplitAbsolute("http://10.0.0.1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");
  url = SplitAbsolute("HTTP://[fd00::1]:81?a");
  ASSERT_TRUE(url.ok()) << url.error();
  EXPECT_EQ(url->host, "fd00::1");
  EXPECT_EQ(url->port, 81);
  EXPECT_EQ(url->target, "/?a");
  EXPECT_EQ(SplitAbsolute("https://a").value().port, 443);
}

TEST(UrlTemplate, RefusesWhatIsNotAPlainAbsoluteUrl) {
  for (const char* bad : {"ftp://a/", "/relative", "//a/b", "http://", "http://user:pw@a/", "http://a/#frag",
                          "http://$host/x", "http://a:$port/", "http://a:0/", "http://a:65536/", "http://a:/",
                          "http://a_b/", "http://[fd00::1/", "http://[nope]/", "http://[fd00::1]x/", "http://-a/",
                          "http://a-.example/", "http://a..b/"}) {
    EXPECT_FALSE(SplitAbsolute(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace pier::url_template
