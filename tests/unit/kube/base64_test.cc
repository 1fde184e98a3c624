#include "kube/base64.h"

#include <gtest/gtest.h>

namespace pier::kube {
namespace {

TEST(DecodeBase64, DecodesAllPaddingLengths) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(*DecodeBase64("aGVsbG8h"), "hello!");
  EXPECT_EQ(*DecodeBase64("aGk="), "hi");
  EXPECT_EQ(*DecodeBase64("aA=="), "h");
  EXPECT_EQ(*DecodeBase64(""), "");
}

TEST(DecodeBase64, AcceptsMissingPaddingAndLineWrapping) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8"), "hello");
  EXPECT_EQ(*DecodeBase64("aGVs\nbG8h\r\n"), "hello!");
}

TEST(DecodeBase64, DecodesBinary) {
  auto decoded = DecodeBase64("AP8Q");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::string("\x00\xff\x10", 3));
}

TEST(DecodeBase64, RejectsBadInput) {
  EXPECT_FALSE(DecodeBase64("aGVs*G8=").ok());  // not in the alphabet
  EXPECT_FALSE(DecodeBase64("aGVsbG8=x").ok());  // data after padding
  EXPECT_FALSE(DecodeBase64("a").ok());          // one sextet cannot hold a byte
  EXPECT_FALSE(DecodeBase64("aGk==").ok());      // too much padding
  EXPECT_FALSE(DecodeBase64("-_8=").ok());       // URL alphabet is not the kubeconfig one
}

}  // namespace
}  // namespace pier::kube
