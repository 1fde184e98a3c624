#include "status/leader_elector.h"

#include <gtest/gtest.h>

#include "memory_api.h"
#include "status/lease_record.h"

namespace pier::status {
namespace {

using namespace std::chrono_literals;

using testing::FakeClock;
using testing::MemoryApi;

const std::string kLeasePath = "/apis/coordination.k8s.io/v1/namespaces/pier/leases/pier-leader";

LeaderElectionConfig Config(const std::string& identity) {
  LeaderElectionConfig config;
  config.namespace_ = "pier";
  config.name = "pier-leader";
  config.identity = identity;
  return config;
}

LeaseRecord StoredRecord(MemoryApi& api) { return LeaseRecordFromJson(api.Object(kLeasePath).value()); }

TEST(LeaderElectorTest, CreatesAbsentLeaseAndLeads) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector elector(api, Config("a"), clock);
  EXPECT_TRUE(elector.Tick());
  const LeaseRecord record = StoredRecord(api);
  EXPECT_EQ(record.holder_identity, "a");
  EXPECT_EQ(record.lease_duration_seconds, 15);
  EXPECT_EQ(record.lease_transitions, 0);
  EXPECT_EQ(record.renew_time, "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(api.Writes().front().verb, "create");
}

TEST(LeaderElectorTest, LosingTheCreateRaceIsNotLeading) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector elector(api, Config("a"), clock);
  api.FailNext("create", 409);
  EXPECT_FALSE(elector.Tick());
}

TEST(LeaderElectorTest, RenewsKeepingAcquireTimeAndTransitions) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector elector(api, Config("a"), clock);
  ASSERT_TRUE(elector.Tick());
  const std::string acquired = StoredRecord(api).acquire_time;
  clock.Advance(2s);
  ASSERT_TRUE(elector.Tick());
  const LeaseRecord record = StoredRecord(api);
  EXPECT_EQ(record.acquire_time, acquired);
  EXPECT_EQ(record.renew_time, "2026-01-01T00:00:02.000000Z");
  EXPECT_EQ(record.lease_transitions, 0);
  EXPECT_EQ(api.Writes().back().body["metadata"]["resourceVersion"], "101");  // optimistic concurrency
}

TEST(LeaderElectorTest, FollowerWaitsForExpiryMeasuredOnItsOwnClock) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector leader(api, Config("a"), clock);
  LeaderElector follower(api, Config("b"), clock);
  ASSERT_TRUE(leader.Tick());
  EXPECT_FALSE(follower.Tick());
  EXPECT_EQ(follower.observed_holder(), "a");
  // The leader dies. 14 s after the follower first saw the record, it is still valid...
  clock.Advance(14s);
  EXPECT_FALSE(follower.Tick());
  // ...and at 15 s it has expired: taken over, one transition more.
  clock.Advance(1s);
  EXPECT_TRUE(follower.Tick());
  const LeaseRecord record = StoredRecord(api);
  EXPECT_EQ(record.holder_identity, "b");
  EXPECT_EQ(record.lease_transitions, 1);
}

TEST(LeaderElectorTest, ExpiryIgnoresTheRenewTimeWrittenByAnotherClock) {
  MemoryApi api;
  FakeClock clock;
  // A live leader whose clock is an hour behind: its renewTime looks long expired.
  LeaseRecord old;
  old.holder_identity = "skewed";
  old.lease_duration_seconds = 15;
  old.renew_time = "2025-12-31T23:00:00.000000Z";
  api.Put(kLeasePath, LeaseToJson("pier", "pier-leader", old, ""));
  LeaderElector follower(api, Config("b"), clock);
  EXPECT_FALSE(follower.Tick());
  clock.Advance(10s);
  old.renew_time = "2025-12-31T23:00:10.000000Z";  // it renews: a changed record restarts the wait
  api.Put(kLeasePath, LeaseToJson("pier", "pier-leader", old, ""));
  EXPECT_FALSE(follower.Tick());
  clock.Advance(10s);
  EXPECT_FALSE(follower.Tick());
  clock.Advance(5s);
  EXPECT_TRUE(follower.Tick());
}

TEST(LeaderElectorTest, ConflictOnUpdateIsRetriedNextRound) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector elector(api, Config("a"), clock);
  ASSERT_TRUE(elector.Tick());
  clock.Advance(2s);
  api.FailNext("update", 409);
  EXPECT_TRUE(elector.Tick());  // within the renew deadline: still leading
  clock.Advance(2s);
  EXPECT_TRUE(elector.Tick());
  EXPECT_EQ(StoredRecord(api).renew_time, "2026-01-01T00:00:04.000000Z");
}

TEST(LeaderElectorTest, StepsDownWhenAnotherHolderTookTheLease) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector elector(api, Config("a"), clock);
  ASSERT_TRUE(elector.Tick());
  LeaseRecord other = StoredRecord(api);
  other.holder_identity = "b";
  api.Put(kLeasePath, LeaseToJson("pier", "pier-leader", other, ""));
  clock.Advance(2s);
  EXPECT_FALSE(elector.Tick());
}

TEST(LeaderElectorTest, StepsDownAfterTheRenewDeadlineAndCampaignsAgain) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector elector(api, Config("a"), clock);
  ASSERT_TRUE(elector.Tick());
  api.FailNext("get", 503, 5);
  for (int round = 1; round <= 4; ++round) {
    clock.Advance(2s);
    EXPECT_TRUE(elector.Tick()) << "round " << round << " is within the 10 s deadline";
  }
  clock.Advance(2s);
  EXPECT_FALSE(elector.Tick()) << "10 s without a renewal";
  // The API is back and the record is still ours: leading again, no new transition.
  clock.Advance(2s);
  EXPECT_TRUE(elector.Tick());
  EXPECT_EQ(StoredRecord(api).lease_transitions, 0);
}

TEST(LeaderElectorTest, ReleaseLetsAnotherReplicaLeadAtOnce) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector leader(api, Config("a"), clock);
  LeaderElector follower(api, Config("b"), clock);
  ASSERT_TRUE(leader.Tick());
  ASSERT_FALSE(follower.Tick());
  EXPECT_TRUE(leader.Release());
  EXPECT_FALSE(leader.IsLeader());
  const LeaseRecord released = StoredRecord(api);
  EXPECT_EQ(released.holder_identity, "");
  EXPECT_EQ(released.lease_duration_seconds, 1);
  clock.Advance(2s);
  EXPECT_TRUE(follower.Tick());
  EXPECT_EQ(StoredRecord(api).lease_transitions, 1);
}

TEST(LeaderElectorTest, ReleaseWithoutLeadingWritesNothing) {
  MemoryApi api;
  FakeClock clock;
  LeaderElector elector(api, Config("a"), clock);
  EXPECT_FALSE(elector.Release());
  EXPECT_TRUE(api.Writes().empty());
}

TEST(LeaderElectorTest, HolderIdentityIsHostnameAndRandomSuffix) {
  const std::string a = NewHolderIdentity();
  const std::string b = NewHolderIdentity();
  EXPECT_NE(a, b);
  const auto underscore = a.rfind('_');
  ASSERT_NE(underscore, std::string::npos);
  EXPECT_EQ(a.size() - underscore - 1, 16u);
}

}  // namespace
}  // namespace pier::status
