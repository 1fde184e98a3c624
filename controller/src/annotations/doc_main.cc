// Prints the annotation reference (docs/annotations.md) generated from the registry.
#include <cstdio>

#include "annotations/registry.h"

int main() {
  const std::string markdown = pier::annotations::RenderMarkdown();
  return std::fwrite(markdown.data(), 1, markdown.size(), stdout) == markdown.size() ? 0 : 1;
}
