// /readyz of the dataplane: ready only with a snapshot applied and while not draining.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "admin/admin_endpoints.h"
#include "admin/readiness.h"
#include "routing/config.h"

namespace pier::dataplane {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const Config> SomeConfig() {
  v1::Snapshot snapshot;
  snapshot.set_version(1);
  auto config = Config::Build(snapshot);
  EXPECT_TRUE(config.ok());
  return config.ok() ? *config : nullptr;
}

TEST(Readiness, NotReadyUntilASnapshotIsAppliedThenUntilDraining) {
  ConfigStore store;
  Readiness readiness(store);
  AdminHandler readyz = MakeAdminHandlers(readiness).routes.at("/readyz");

  AdminResponse before = readyz();
  EXPECT_EQ(before.status, 503u);
  EXPECT_THAT(before.body, HasSubstr("no snapshot applied yet"));

  store.Swap(SomeConfig());
  EXPECT_EQ(readyz().status, 200u);
  EXPECT_EQ(readiness.NotReadyReason(), "");

  readiness.SetDraining();
  AdminResponse draining = readyz();
  EXPECT_EQ(draining.status, 503u);
  EXPECT_THAT(draining.body, HasSubstr("draining"));
}

}  // namespace
}  // namespace pier::dataplane
