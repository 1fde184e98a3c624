#include "pier/common/base64.h"

#include <gtest/gtest.h>

namespace pier {
namespace {

TEST(Base64Decode, DecodesPaddedInput) {
  EXPECT_EQ(*Base64Decode(""), "");
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  EXPECT_EQ(*Base64Decode("YWI="), "ab");
  EXPECT_EQ(*Base64Decode("YWJj"), "abc");
  EXPECT_EQ(*Base64Decode("aGVsbG8gd29ybGQ="), "hello world");
  EXPECT_EQ(*Base64Decode("AP8A/w=="), std::string("\x00\xff\x00\xff", 4));
}

TEST(Base64Decode, SkipsLineBreaks) { EXPECT_EQ(*Base64Decode("aGVs\nbG8g\r\nd29y bGQ="), "hello world"); }

TEST(Base64Decode, RejectsGarbage) {
  for (const char* bad : {"YQ", "YQ=", "Y", "YQ===", "Y!==", "YQ==YQ==", "=YQ=", "YWJj-", "aGVsbG8_"}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << "accepted \"" << bad << "\"";
  }
}

TEST(Base64DecodeOptionalPadding, DecodesAllPaddingLengths) {
  EXPECT_EQ(*Base64Decode("aGVsbG8=", Base64Padding::kOptional), "hello");
  EXPECT_EQ(*Base64Decode("aGVsbG8h", Base64Padding::kOptional), "hello!");
  EXPECT_EQ(*Base64Decode("aGk=", Base64Padding::kOptional), "hi");
  EXPECT_EQ(*Base64Decode("aA==", Base64Padding::kOptional), "h");
  EXPECT_EQ(*Base64Decode("", Base64Padding::kOptional), "");
}

TEST(Base64DecodeOptionalPadding, AcceptsMissingPaddingAndLineWrapping) {
  EXPECT_EQ(*Base64Decode("aGVsbG8", Base64Padding::kOptional), "hello");
  EXPECT_EQ(*Base64Decode("aGVs\nbG8h\r\n", Base64Padding::kOptional), "hello!");
}

TEST(Base64DecodeOptionalPadding, DecodesBinary) {
  auto decoded = Base64Decode("AP8Q", Base64Padding::kOptional);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::string("\x00\xff\x10", 3));
}

TEST(Base64DecodeOptionalPadding, RejectsBadInput) {
  EXPECT_FALSE(Base64Decode("aGVs*G8=", Base64Padding::kOptional).ok());  // not in the alphabet
  EXPECT_FALSE(Base64Decode("aGVsbG8=x", Base64Padding::kOptional).ok());  // data after padding
  EXPECT_FALSE(Base64Decode("a", Base64Padding::kOptional).ok());          // one sextet cannot hold a byte
  EXPECT_FALSE(Base64Decode("aGk==", Base64Padding::kOptional).ok());      // too much padding
  EXPECT_FALSE(Base64Decode("-_8=", Base64Padding::kOptional).ok());       // URL alphabet is not the kubeconfig one
}

TEST(Base64Decode, RequiredPaddingRefusesUnpaddedInput) {
  EXPECT_FALSE(Base64Decode("aGVsbG8").ok());
  EXPECT_EQ(*Base64Decode("aGVsbG8", Base64Padding::kOptional), "hello");
}

}  // namespace
}  // namespace pier
