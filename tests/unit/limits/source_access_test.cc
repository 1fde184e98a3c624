#include "limits/source_access.h"

#include <gtest/gtest.h>

namespace pier::dataplane::limits {
namespace {

CidrSet Set(const char* text) {
  auto set = CidrSet::Parse(text);
  EXPECT_TRUE(set) << set.error();
  return set ? *set : CidrSet();
}

SourceVerdict Check(const char* client, const CidrSet& allow, const CidrSet& deny) {
  return CheckSource(boost::asio::ip::make_address(client), allow, deny);
}

TEST(SourceAccess, NoListsAllowEveryone) {
  EXPECT_EQ(Check("203.0.113.9", {}, {}), SourceVerdict::kAllowed);
  EXPECT_EQ(Check("2001:db8::1", {}, {}), SourceVerdict::kAllowed);
}

TEST(SourceAccess, AllowListAdmitsOnlyItsNetworks) {
  const CidrSet allow = Set("10.0.0.0/8, 192.168.1.0/24, 2001:db8::/32");
  EXPECT_EQ(Check("10.200.3.4", allow, {}), SourceVerdict::kAllowed);
  EXPECT_EQ(Check("192.168.1.255", allow, {}), SourceVerdict::kAllowed);
  EXPECT_EQ(Check("2001:db8:5::1", allow, {}), SourceVerdict::kAllowed);
  EXPECT_EQ(Check("192.168.2.1", allow, {}), SourceVerdict::kNotAllowed);
  EXPECT_EQ(Check("127.0.0.1", allow, {}), SourceVerdict::kNotAllowed);
  EXPECT_EQ(Check("2001:db9::1", allow, {}), SourceVerdict::kNotAllowed);
}

TEST(SourceAccess, Ipv4MappedClientsAreMatchedAsIpv4) {
  EXPECT_EQ(Check("::ffff:10.1.2.3", Set("10.0.0.0/8"), {}), SourceVerdict::kAllowed);
  EXPECT_EQ(Check("::ffff:10.1.2.3", {}, Set("10.0.0.0/8")), SourceVerdict::kDenied);
  EXPECT_EQ(Check("::ffff:127.0.0.1", Set("10.0.0.0/8"), {}), SourceVerdict::kNotAllowed);
}

TEST(SourceAccess, DenyWinsOverAllow) {
  const CidrSet allow = Set("10.0.0.0/8");
  const CidrSet deny = Set("10.66.0.0/16");
  EXPECT_EQ(Check("10.1.1.1", allow, deny), SourceVerdict::kAllowed);
  EXPECT_EQ(Check("10.66.1.1", allow, deny), SourceVerdict::kDenied);
  EXPECT_EQ(Check("11.0.0.1", allow, deny), SourceVerdict::kNotAllowed);
  EXPECT_EQ(Check("11.0.0.1", {}, deny), SourceVerdict::kAllowed);
}

TEST(SourceAccess, SingleAddressesAreHostRoutes) {
  EXPECT_EQ(Check("127.0.0.2", Set("127.0.0.2"), {}), SourceVerdict::kAllowed);
  EXPECT_EQ(Check("127.0.0.1", Set("127.0.0.2"), {}), SourceVerdict::kNotAllowed);
}

}  // namespace
}  // namespace pier::dataplane::limits
