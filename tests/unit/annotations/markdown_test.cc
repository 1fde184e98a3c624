#include <gtest/gtest.h>

#include <string>

#include "annotations/registry.h"

namespace pier::annotations {
namespace {

TEST(RenderMarkdown, OneRowPerAnnotationWithItsMetadata) {
  const std::string markdown = RenderMarkdown();
  for (const AnnotationSpec& spec : Registry()) {
    const std::string row_start = "| `pier.dev/" + std::string(spec.key) + "`";
    const auto row = markdown.find(row_start);
    ASSERT_NE(row, std::string::npos) << spec.key;
    const std::string line = markdown.substr(row, markdown.find('\n', row) - row);
    EXPECT_NE(line.find(std::string(spec.doc)), std::string::npos) << line;
    EXPECT_NE(line.find(spec.security() ? "| yes (" : "| no |"), std::string::npos) << line;
  }
  EXPECT_NE(markdown.find("alias `nginx.org/websocket-services`"), std::string::npos);
}

TEST(Registry, EveryRowIsComplete) {
  ASSERT_FALSE(Registry().empty());
  for (const AnnotationSpec& spec : Registry()) {
    EXPECT_FALSE(spec.key.empty());
    EXPECT_FALSE(spec.value_type.empty()) << spec.key;
    EXPECT_FALSE(spec.default_value.empty()) << spec.key;
    EXPECT_FALSE(spec.doc.empty()) << spec.key;
    EXPECT_NE(spec.parse, nullptr) << spec.key;
    EXPECT_EQ(Find(spec.key), &spec) << "duplicate key " << spec.key;
  }
}

}  // namespace
}  // namespace pier::annotations
