#include "upstream/affinity_cookie.h"

#include <gtest/gtest.h>

#include <set>

namespace pier::dataplane::upstream {
namespace {

TEST(AffinityToken, IsAStableOpaqueHashOfTheEndpointId) {
  // Fixed: every replica, and every future version, must read old cookies the same way.
  EXPECT_EQ(AffinityToken("10.0.0.1:8080"), "d8db28bde4082115");
  const std::string token = AffinityToken("10.0.0.1:8080");
  EXPECT_EQ(token.size(), kAffinityTokenLength);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(token.find("10.0.0.1"), std::string::npos);
}

TEST(AffinityToken, DiffersBetweenEndpoints) {
  std::set<std::string> tokens;
  for (int port = 1; port <= 1000; ++port) tokens.insert(AffinityToken("10.0.0.1:" + std::to_string(port)));
  tokens.insert(AffinityToken("[2001:db8::1]:8080"));
  EXPECT_EQ(tokens.size(), 1001u);
}

TEST(AffinitySetCookie, MinimalCookieIsASessionCookieWithPathAndHttpOnly) {
  pier::v1::Affinity affinity;
  affinity.set_cookie_name("PIER_AFFINITY");
  affinity.set_cookie_path("/ws");
  EXPECT_EQ(AffinitySetCookie(affinity, "0123456789abcdef"), "PIER_AFFINITY=0123456789abcdef; Path=/ws; HttpOnly");
}

TEST(AffinitySetCookie, EveryAttributeFromTheRoute) {
  pier::v1::Affinity affinity;
  affinity.set_cookie_name("route");
  affinity.set_cookie_path("/");
  affinity.set_cookie_max_age_s(3600);
  affinity.set_cookie_domain("example.com");
  affinity.set_cookie_secure(true);
  affinity.set_cookie_samesite("Lax");
  EXPECT_EQ(AffinitySetCookie(affinity, "t"),
            "route=t; Path=/; Max-Age=3600; Domain=example.com; Secure; HttpOnly; SameSite=Lax");
}

TEST(AffinitySetCookie, SecureForAnHttpsClientWithoutTheAnnotation) {
  pier::v1::Affinity affinity;
  affinity.set_cookie_name("c");
  affinity.set_cookie_samesite("None");
  EXPECT_EQ(AffinitySetCookie(affinity, "t", /*client_https=*/true), "c=t; Path=/; Secure; HttpOnly; SameSite=None");
  EXPECT_EQ(AffinitySetCookie(affinity, "t", /*client_https=*/false), "c=t; Path=/; HttpOnly; SameSite=None");
}

TEST(AffinitySetCookie, EmptyPathBecomesRoot) {
  pier::v1::Affinity affinity;
  affinity.set_cookie_name("c");
  EXPECT_EQ(AffinitySetCookie(affinity, "t"), "c=t; Path=/; HttpOnly");
}

TEST(FindCookie, FindsTheNamedCookieOnly) {
  EXPECT_EQ(FindCookie("a=1; PIER_AFFINITY=abc; b=2", "PIER_AFFINITY"), "abc");
  EXPECT_EQ(FindCookie("PIER_AFFINITY=abc", "PIER_AFFINITY"), "abc");
  EXPECT_EQ(FindCookie("  PIER_AFFINITY = abc ;x=y", "PIER_AFFINITY"), "abc");
  EXPECT_EQ(FindCookie("PIER_AFFINITY=\"abc\"", "PIER_AFFINITY"), "abc");
  EXPECT_EQ(FindCookie("PIER_AFFINITY=", "PIER_AFFINITY"), "");
  EXPECT_FALSE(FindCookie("PIER_AFFINITYX=abc; XPIER_AFFINITY=abc", "PIER_AFFINITY"));
  EXPECT_FALSE(FindCookie("pier_affinity=abc", "PIER_AFFINITY")) << "cookie names are case-sensitive";
  EXPECT_FALSE(FindCookie("", "PIER_AFFINITY"));
  EXPECT_FALSE(FindCookie(";;; novalue; =x", "PIER_AFFINITY"));
}

TEST(FindCookie, FirstOfDuplicatesWins) {
  // Browsers put the cookie with the longest Path first.
  EXPECT_EQ(FindCookie("PIER_AFFINITY=specific; PIER_AFFINITY=general", "PIER_AFFINITY"), "specific");
}

}  // namespace
}  // namespace pier::dataplane::upstream
