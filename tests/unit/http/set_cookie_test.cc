#include "http/set_cookie.h"

#include <gtest/gtest.h>

namespace pier::dataplane::http {
namespace {

v1::CookieRewrite Rule(std::string domain_from, std::string domain_to, std::string path_from, std::string path_to) {
  v1::CookieRewrite rule;
  rule.set_domain_from(domain_from);
  rule.set_domain_to(domain_to);
  rule.set_path_from(path_from);
  rule.set_path_to(path_to);
  return rule;
}

TEST(RewriteSetCookie, DomainIsMatchedWholeIgnoringCaseAndTheLeadingDot) {
  const auto rule = Rule(".app.internal", "shop.example", "", "");
  EXPECT_EQ(RewriteSetCookie("id=1; Domain=App.Internal; Path=/", rule), "id=1; Domain=shop.example; Path=/");
  EXPECT_EQ(RewriteSetCookie("id=1; domain=.app.internal", rule), "id=1; domain=.shop.example");
  EXPECT_EQ(RewriteSetCookie("id=1; Domain=x.app.internal", rule), std::nullopt);
  EXPECT_EQ(RewriteSetCookie("id=1; Domain=app.internal.evil", rule), std::nullopt);
  EXPECT_EQ(RewriteSetCookie("id=1; Path=/app.internal", rule), std::nullopt);  // only Domain
}

TEST(RewriteSetCookie, PathIsACaseSensitivePrefix) {
  const auto rule = Rule("", "", "/api/", "/");
  EXPECT_EQ(RewriteSetCookie("s=a; Path=/api/v1; HttpOnly", rule), "s=a; Path=/v1; HttpOnly");
  EXPECT_EQ(RewriteSetCookie("s=a; Path=/API/v1", rule), std::nullopt);
  EXPECT_EQ(RewriteSetCookie("s=a; Path=/api", rule), std::nullopt);
  EXPECT_EQ(RewriteSetCookie("s=a; Domain=api", rule), std::nullopt);  // only Path
}

TEST(RewriteSetCookie, ARewrittenValueIsRebuiltAsNginxDoes) {
  const auto rule = Rule("app.internal", "shop.example", "/", "/shop/");
  EXPECT_EQ(RewriteSetCookie("  a = b ;Secure;; path = /x ;domain=app.internal;", rule),
            "a=b; Secure; ; path=/shop/x; domain=shop.example; ");
  // Untouched values keep their bytes, spaces and all.
  EXPECT_EQ(RewriteSetCookie("  a = b ;Secure", rule), std::nullopt);
  // The cookie's own name and value are never attributes, even when called "path".
  EXPECT_EQ(RewriteSetCookie("path=/; Max-Age=5", rule), std::nullopt);
  EXPECT_EQ(RewriteSetCookie("Path=/", rule), std::nullopt);
  // A first part without "=" is not a cookie.
  EXPECT_EQ(RewriteSetCookie("garbage; Path=/", rule), std::nullopt);
  // An attribute without "=" is kept as a flag; "Path" without a value is not rewritten.
  EXPECT_EQ(RewriteSetCookie("a=b; Path; Domain=APP.internal", rule), "a=b; Path; Domain=shop.example");
  EXPECT_EQ(RewriteSetCookie("a=", rule), std::nullopt);
}

}  // namespace
}  // namespace pier::dataplane::http
