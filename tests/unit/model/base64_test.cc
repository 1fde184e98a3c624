#include "model/base64.h"

#include <gtest/gtest.h>

namespace pier::model {
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

}  // namespace
}  // namespace pier::model
