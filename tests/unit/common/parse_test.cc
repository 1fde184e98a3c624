#include "pier/common/parse.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace pier::parse {
namespace {

using std::chrono::milliseconds;

TEST(Duration, PlainIntegerIsSeconds) {
  EXPECT_EQ(*Duration("60"), milliseconds(60'000));
  EXPECT_EQ(*Duration("0"), milliseconds(0));
  EXPECT_EQ(*Duration("3600"), milliseconds(3'600'000));
}

TEST(Duration, GoStyle) {
  EXPECT_EQ(*Duration("500ms"), milliseconds(500));
  EXPECT_EQ(*Duration("60s"), milliseconds(60'000));
  EXPECT_EQ(*Duration("1m30s"), milliseconds(90'000));
  EXPECT_EQ(*Duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(*Duration("1h2m3s4ms"), milliseconds(3'723'004));
  EXPECT_EQ(*Duration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(*Duration("0.5h"), milliseconds(1'800'000));
  EXPECT_EQ(*Duration(".25s"), milliseconds(250));
  EXPECT_EQ(*Duration("0s"), milliseconds(0));
}

TEST(Duration, RejectsBadInputNamingIt) {
  for (const char* bad : {"", "-1", "-5s", "abc", "10x", "s", "1.5", "1m30", "1..5s", "5 s", " 5s", "1us", "1ns",
                          "1ms2", "+5s", "1e3s", "."}) {
    auto result = Duration(bad);
    ASSERT_FALSE(result.ok()) << "accepted \"" << bad << "\"";
    EXPECT_NE(result.error().find("\"" + std::string(bad) + "\""), std::string::npos) << result.error();
  }
}

TEST(Duration, RejectsOverflow) {
  EXPECT_FALSE(Duration("99999999999999999999").ok());
  EXPECT_FALSE(Duration("9223372036854775807").ok());  // seconds -> ms overflows
  EXPECT_FALSE(Duration("9999999999999999h").ok());
  EXPECT_FALSE(Duration("9223372036854775807ms1ms").ok());
  EXPECT_TRUE(Duration("9223372036854775807ms").ok());
}

TEST(Size, NginxSyntax) {
  EXPECT_EQ(*Size("0"), 0u);
  EXPECT_EQ(*Size("512"), 512u);
  EXPECT_EQ(*Size("16k"), 16u * 1024);
  EXPECT_EQ(*Size("16K"), 16u * 1024);
  EXPECT_EQ(*Size("1m"), 1u << 20);
  EXPECT_EQ(*Size("1M"), 1u << 20);
  EXPECT_EQ(*Size("1g"), uint64_t{1} << 30);
  EXPECT_EQ(*Size("2G"), uint64_t{2} << 30);
}

TEST(Size, RejectsBadInput) {
  for (const char* bad : {"", "-1", "1mb", "1.5m", "m", "1t", " 1m", "1m ", "0x10", "1kk"}) {
    auto result = Size(bad);
    ASSERT_FALSE(result.ok()) << "accepted \"" << bad << "\"";
    EXPECT_NE(result.error().find("\"" + std::string(bad) + "\""), std::string::npos) << result.error();
  }
}

TEST(Size, RejectsOverflow) {
  EXPECT_FALSE(Size("18446744073709551616").ok());
  EXPECT_FALSE(Size("17179869184g").ok());
  EXPECT_EQ(*Size("18446744073709551615"), UINT64_MAX);
}

TEST(Bool, TrueFalseAnyCase) {
  EXPECT_TRUE(*Bool("true"));
  EXPECT_TRUE(*Bool("TRUE"));
  EXPECT_TRUE(*Bool("True"));
  EXPECT_FALSE(*Bool("false"));
  EXPECT_FALSE(*Bool("FaLsE"));
}

TEST(Bool, RejectsEverythingElse) {
  for (const char* bad : {"", "yes", "1", "0", "t", "truee", " true"}) {
    auto result = Bool(bad);
    ASSERT_FALSE(result.ok()) << "accepted \"" << bad << "\"";
    EXPECT_NE(result.error().find("\"" + std::string(bad) + "\""), std::string::npos);
  }
}

TEST(TrimSpace, SpacesAndTabs) {
  EXPECT_EQ(TrimSpace("  a b \t"), "a b");
  EXPECT_EQ(TrimSpace("   "), "");
  EXPECT_EQ(TrimSpace(""), "");
}

TEST(IsLocationText, VisibleUriCharactersOnly) {
  EXPECT_TRUE(IsLocationText("https://a.example/p?q=1&r=%2F#f"));
  EXPECT_TRUE(IsLocationText("/app"));
  EXPECT_TRUE(IsLocationText(std::string(2048, 'a')));
  EXPECT_FALSE(IsLocationText(std::string(2049, 'a')));
  EXPECT_FALSE(IsLocationText(""));
  for (const char* bad : {"/a b", "/a\r\nX: y", "/a\tb", "/\"", "/<", "/>", "/\\", "/^", "/`", "/{", "/|", "/}", "/\x7f",
                          "/\xc3\xa9"}) {
    EXPECT_FALSE(IsLocationText(bad)) << bad;
  }
}

}  // namespace
}  // namespace pier::parse
