#include "pier/common/metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

namespace pier::metrics {

std::shared_ptr<prometheus::Registry> RegistryPtr() {
  static auto registry = std::make_shared<prometheus::Registry>();
  return registry;
}

prometheus::Registry& Registry() { return *RegistryPtr(); }

std::string Serialize() {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(Registry().Collect());
}

void RegisterBuildInfo(const std::string& version) {
  prometheus::BuildGauge()
      .Name("pier_build_info")
      .Help("Pier build information; always 1.")
      .Register(Registry())
      .Add({{"version", version}})
      .Set(1);
}

}  // namespace pier::metrics
