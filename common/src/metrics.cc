#include "pier/common/metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include <mutex>

namespace pier::metrics {
namespace {

struct Collectables {
  std::mutex mutex;
  std::vector<std::shared_ptr<prometheus::Collectable>> list;
};

Collectables& GetCollectables() {
  static auto* collectables = new Collectables();  // never destroyed: scrapes may outlive statics
  return *collectables;
}

}  // namespace

std::shared_ptr<prometheus::Registry> RegistryPtr() {
  static auto registry = std::make_shared<prometheus::Registry>();
  return registry;
}

prometheus::Registry& Registry() { return *RegistryPtr(); }

void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  auto& collectables = GetCollectables();
  std::lock_guard lock(collectables.mutex);
  collectables.list.push_back(std::move(collectable));
}

std::vector<prometheus::MetricFamily> CollectAll() {
  auto families = Registry().Collect();
  auto& collectables = GetCollectables();
  std::lock_guard lock(collectables.mutex);
  for (const auto& collectable : collectables.list) {
    auto more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return families;
}

std::string Serialize() {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(CollectAll());
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
