#include "pier/common/cidr.h"

#include <gtest/gtest.h>

#include <string>

namespace pier {
namespace {

boost::asio::ip::address Ip(const char* text) { return boost::asio::ip::make_address(text); }

TEST(Cidr, ParsesIpv4AndIpv6Networks) {
  auto v4 = Cidr::Parse("10.0.0.0/8");
  ASSERT_TRUE(v4.ok()) << v4.error();
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->prefix_length(), 8u);
  EXPECT_EQ(v4->ToString(), "10.0.0.0/8");

  auto v6 = Cidr::Parse("2001:DB8::/32");
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->ToString(), "2001:db8::/32");
  EXPECT_EQ(Cidr::Parse("::1/128")->ToString(), "::1/128");
  EXPECT_EQ(Cidr::Parse("0.0.0.0/0")->ToString(), "0.0.0.0/0");
  EXPECT_EQ(Cidr::Parse("::/0")->ToString(), "::/0");
}

TEST(Cidr, BareAddressIsAHostNetwork) {
  EXPECT_EQ(Cidr::Parse("192.168.1.7")->ToString(), "192.168.1.7/32");
  EXPECT_EQ(Cidr::Parse("::1")->ToString(), "::1/128");
}

TEST(Cidr, HostBitsAreCleared) {
  EXPECT_EQ(Cidr::Parse("10.1.2.3/8")->ToString(), "10.0.0.0/8");
  EXPECT_EQ(Cidr::Parse("192.168.255.255/20")->ToString(), "192.168.240.0/20");
  EXPECT_EQ(Cidr::Parse("2001:db8:ffff::1/33")->ToString(), "2001:db8:8000::/33");
  EXPECT_EQ(*Cidr::Parse("10.1.2.3/8"), *Cidr::Parse("10.0.0.0/8"));
}

TEST(Cidr, MappedIpv6NetworkBecomesIpv4) {
  auto cidr = Cidr::Parse("::ffff:10.0.0.0/104");
  ASSERT_TRUE(cidr.ok()) << cidr.error();
  EXPECT_EQ(cidr->ToString(), "10.0.0.0/8");
}

TEST(Cidr, RejectsBadInput) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0/8",
                          "300.0.0.0/8", "example.com", "10.0.0.0/ 8", "fe80::1%eth0/64", "/8", "01.2.3.4",
                          " 10.0.0.0/8"}) {
    auto result = Cidr::Parse(bad);
    ASSERT_FALSE(result.ok()) << "accepted \"" << bad << "\"";
    EXPECT_NE(result.error().find("\"" + std::string(bad) + "\""), std::string::npos) << result.error();
  }
}

TEST(Cidr, ContainsIpv4) {
  auto cidr = *Cidr::Parse("10.0.0.0/8");
  EXPECT_TRUE(cidr.Contains(Ip("10.0.0.0")));
  EXPECT_TRUE(cidr.Contains(Ip("10.255.255.255")));
  EXPECT_FALSE(cidr.Contains(Ip("11.0.0.0")));
  EXPECT_FALSE(cidr.Contains(Ip("9.255.255.255")));
  EXPECT_FALSE(cidr.Contains(Ip("::1")));
}

TEST(Cidr, ContainsWithOddPrefixLengths) {
  auto cidr = *Cidr::Parse("192.168.240.0/20");
  EXPECT_TRUE(cidr.Contains(Ip("192.168.255.1")));
  EXPECT_TRUE(cidr.Contains(Ip("192.168.240.0")));
  EXPECT_FALSE(cidr.Contains(Ip("192.168.239.255")));
  EXPECT_TRUE(Cidr::Parse("0.0.0.0/0")->Contains(Ip("1.2.3.4")));
  EXPECT_TRUE(Cidr::Parse("1.2.3.4")->Contains(Ip("1.2.3.4")));
  EXPECT_FALSE(Cidr::Parse("1.2.3.4")->Contains(Ip("1.2.3.5")));
}

TEST(Cidr, ContainsIpv6) {
  auto cidr = *Cidr::Parse("2001:db8::/32");
  EXPECT_TRUE(cidr.Contains(Ip("2001:db8::1")));
  EXPECT_TRUE(cidr.Contains(Ip("2001:db8:ffff:ffff::")));
  EXPECT_FALSE(cidr.Contains(Ip("2001:db9::")));
  EXPECT_FALSE(cidr.Contains(Ip("10.0.0.1")));
}

TEST(Cidr, MappedClientAddressMatchesIpv4Network) {
  EXPECT_TRUE(Cidr::Parse("10.0.0.0/8")->Contains(Ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/8")->Contains(Ip("::ffff:11.1.2.3")));
  EXPECT_FALSE(Cidr::Parse("::/0")->Contains(Ip("::ffff:10.1.2.3")));
}

TEST(ParseCidrList, CommaSeparatedWithSpaces) {
  auto list = ParseCidrList("10.0.0.0/8, 192.168.0.0/16 ,::1");
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].ToString(), "10.0.0.0/8");
  EXPECT_EQ((*list)[1].ToString(), "192.168.0.0/16");
  EXPECT_EQ((*list)[2].ToString(), "::1/128");
  EXPECT_EQ(ParseCidrList("1.2.3.4")->size(), 1u);
}

TEST(ParseCidrList, RejectsEmptyItemsAndBadMembers) {
  for (const char* bad : {"", " ", "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/8,,1.2.3.4", "10.0.0.0/8, nope"}) {
    EXPECT_FALSE(ParseCidrList(bad).ok()) << "accepted \"" << bad << "\"";
  }
  auto bad = ParseCidrList("10.0.0.0/8, 1.2.3.4/40");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("1.2.3.4/40"), std::string::npos) << bad.error();
}

TEST(CidrSet, ContainsAnyMember) {
  auto set = CidrSet::Parse("10.0.0.0/8, 2001:db8::/32");
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_FALSE(set->empty());
  EXPECT_TRUE(set->Contains(Ip("10.9.9.9")));
  EXPECT_TRUE(set->Contains(Ip("::ffff:10.9.9.9")));
  EXPECT_TRUE(set->Contains(Ip("2001:db8::5")));
  EXPECT_FALSE(set->Contains(Ip("192.168.1.1")));
  EXPECT_FALSE(set->Contains(Ip("::1")));
  EXPECT_FALSE(CidrSet().Contains(Ip("10.0.0.1")));
  EXPECT_TRUE(CidrSet().empty());
}

}  // namespace
}  // namespace pier
