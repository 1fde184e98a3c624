#include "sources/yaml_to_json.h"

#include <gtest/gtest.h>

namespace pier::sources {
namespace {

using nlohmann::json;

json One(const std::string& yaml) {
  auto documents = YamlDocumentsToJson(yaml);
  EXPECT_TRUE(documents) << documents.error();
  if (!documents || documents->size() != 1) return json();
  return documents->front();
}

TEST(YamlToJsonTest, QuotedScalarsAreAlwaysStrings) {
  auto doc = One("a: \"80\"\nb: '1.5'\nc: \"true\"\nd: 'null'\ne: \"\"\n");
  EXPECT_EQ(doc, json({{"a", "80"}, {"b", "1.5"}, {"c", "true"}, {"d", "null"}, {"e", ""}}));
}

TEST(YamlToJsonTest, PlainScalarsFollowTheCoreSchema) {
  auto doc = One(
      "int: 80\nneg: -7\nplus: +3\noctal: 0o17\nhex: 0x1F\nleading_zero: 010\n"
      "float: 1.5\nexp: 1e3\ndot: .5\n"
      "t: true\nT: True\nf: FALSE\n"
      "n1: null\nn2: ~\nn3:\n"
      "yes_word: yes\non_word: on\nversion: 1.2.3\nhost: example.com\nhexish: -0x10\n");
  EXPECT_EQ(doc["int"], json(80));
  EXPECT_TRUE(doc["int"].is_number_integer());
  EXPECT_EQ(doc["neg"], json(-7));
  EXPECT_EQ(doc["plus"], json(3));
  EXPECT_EQ(doc["octal"], json(15));
  EXPECT_EQ(doc["hex"], json(31));
  EXPECT_EQ(doc["leading_zero"], json(10));
  EXPECT_TRUE(doc["float"].is_number_float());
  EXPECT_DOUBLE_EQ(doc["float"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(doc["exp"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(doc["dot"].get<double>(), 0.5);
  EXPECT_EQ(doc["t"], json(true));
  EXPECT_EQ(doc["T"], json(true));
  EXPECT_EQ(doc["f"], json(false));
  EXPECT_TRUE(doc["n1"].is_null());
  EXPECT_TRUE(doc["n2"].is_null());
  EXPECT_TRUE(doc["n3"].is_null());
  // YAML 1.1 booleans are plain words under 1.2.
  EXPECT_EQ(doc["yes_word"], json("yes"));
  EXPECT_EQ(doc["on_word"], json("on"));
  EXPECT_EQ(doc["version"], json("1.2.3"));
  EXPECT_EQ(doc["host"], json("example.com"));
  EXPECT_EQ(doc["hexish"], json("-0x10"));
}

TEST(YamlToJsonTest, IntegerEdges) {
  auto doc = One("max: 9223372036854775807\nmin: -9223372036854775808\nu: 18446744073709551615\nhuge: 1"
                 "00000000000000000000000\n");
  EXPECT_EQ(doc["max"].get<int64_t>(), INT64_MAX);
  EXPECT_EQ(doc["min"].get<int64_t>(), INT64_MIN);
  EXPECT_EQ(doc["u"].get<uint64_t>(), UINT64_MAX);
  EXPECT_TRUE(doc["huge"].is_number_float());
}

TEST(YamlToJsonTest, BlockScalarsAndExplicitTags) {
  auto doc = One("lit: |\n  80\nfolded: >\n  true\nstr: !!str 42\nint: !!int \"42\"\n");
  EXPECT_EQ(doc["lit"], json("80\n"));
  EXPECT_EQ(doc["folded"], json("true\n"));
  EXPECT_EQ(doc["str"], json("42"));
  EXPECT_EQ(doc["int"], json(42));
  auto bad = YamlDocumentsToJson("x: !!int abc\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("line 1"), std::string::npos) << bad.error();
}

TEST(YamlToJsonTest, NestedStructuresAndAliases) {
  auto doc = One("base: &b\n  port: 80\nuse: *b\nlist:\n  - a\n  - {x: 1}\n  - [1, \"2\"]\n");
  EXPECT_EQ(doc["use"], json({{"port", 80}}));
  EXPECT_EQ(doc["list"], json::parse(R"(["a", {"x": 1}, [1, "2"]])"));
}

TEST(YamlToJsonTest, KeysAreStrings) {
  auto doc = One("80: http\ntrue: yes\n");
  EXPECT_EQ(doc, json({{"80", "http"}, {"true", "yes"}}));
}

TEST(YamlToJsonTest, MultipleDocumentsInOrderEmptyOnesDropped) {
  auto documents = YamlDocumentsToJson("---\na: 1\n---\n# only a comment\n---\nb: 2\n---\n");
  ASSERT_TRUE(documents) << documents.error();
  ASSERT_EQ(documents->size(), 2u);
  EXPECT_EQ((*documents)[0], json({{"a", 1}}));
  EXPECT_EQ((*documents)[1], json({{"b", 2}}));
  auto empty = YamlDocumentsToJson("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(YamlToJsonTest, SyntaxErrorNamesTheLine) {
  auto result = YamlDocumentsToJson("a: 1\nb: 2\nc: [unclosed\nd: 4\n");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("line "), std::string::npos) << result.error();
  auto tabs = YamlDocumentsToJson("metadata:\n  name: x\n\tbad: indent\n");
  ASSERT_FALSE(tabs);
  EXPECT_NE(tabs.error().find("line 3"), std::string::npos) << tabs.error();
}

TEST(YamlToJsonTest, DuplicateKeysAreErrors) {
  auto result = YamlDocumentsToJson("metadata:\n  name: a\n  name: b\n");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("line 3"), std::string::npos) << result.error();
  EXPECT_NE(result.error().find("duplicate key \"name\""), std::string::npos) << result.error();
}

TEST(YamlToJsonTest, ComplexKeysAreErrors) {
  auto result = YamlDocumentsToJson("? [a, b]\n: c\n");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("keys must be scalars"), std::string::npos) << result.error();
}

TEST(YamlToJsonTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  EXPECT_FALSE(YamlDocumentsToJson(deep));
}

TEST(PlainScalarTest, InfinityAndNanStayText) {
  EXPECT_EQ(PlainScalarToJson(".inf"), json(".inf"));
  EXPECT_EQ(PlainScalarToJson("-.Inf"), json("-.Inf"));
  EXPECT_EQ(PlainScalarToJson(".NaN"), json(".NaN"));
  EXPECT_EQ(PlainScalarToJson("1."), json(1.0));
  EXPECT_EQ(PlainScalarToJson("."), json("."));
  EXPECT_EQ(PlainScalarToJson("1e"), json("1e"));
  EXPECT_EQ(PlainScalarToJson("-"), json("-"));
}

}  // namespace
}  // namespace pier::sources
