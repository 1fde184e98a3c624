#include "limits/admission.h"

#include <gtest/gtest.h>

#include <vector>

#include "manual_clock.h"

namespace pier::dataplane::limits {
namespace {

using std::chrono::milliseconds;

boost::asio::ip::address Ip(const char* text) { return boost::asio::ip::make_address(text); }

CidrSet Set(const char* text) { return *CidrSet::Parse(text); }

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() : admission_(clock_, AdmissionControl::Options{{}, false}) { route_.name = "default/app/0/0"; }

  Admission Admit(const char* client, bool upgrade = false, std::string_view origin = "") {
    return admission_.Admit(AdmissionRequest{route_, Ip(client), upgrade, origin});
  }

  testing::ManualClock clock_;
  AdmissionControl admission_;
  RouteConfig route_;
};

TEST_F(AdmissionTest, ARouteWithoutRulesAdmitsEveryoneAndCountsNothing) {
  Admission admitted = Admit("203.0.113.1", true, "https://anything.example");
  EXPECT_FALSE(admitted.refusal);
  EXPECT_FALSE(admitted.lease.held());
}

TEST_F(AdmissionTest, SourceRangesRefuseWith403AndSayWhy) {
  route_.allow_sources = Set("10.0.0.0/8");
  route_.deny_sources = Set("10.9.0.0/16");
  EXPECT_FALSE(Admit("10.1.1.1").refusal);
  Admission outside = Admit("127.0.0.1");
  ASSERT_TRUE(outside.refusal);
  EXPECT_EQ(outside.refusal->status, 403u);
  EXPECT_EQ(outside.refusal->reason, RefusalReason::kDeniedSource);
  EXPECT_EQ(outside.refusal->message, "client 127.0.0.1 is not in allowlist-source-range");
  Admission denied = Admit("::ffff:10.9.1.1");
  ASSERT_TRUE(denied.refusal);
  EXPECT_EQ(denied.refusal->status, 403u);
  EXPECT_EQ(denied.refusal->message, "client 10.9.1.1 is denied by denylist-source-range");
}

TEST_F(AdmissionTest, SatisfyAnyLetsTheAllowlistInAndKeepsNobodyOut) {
  route_.allow_sources = Set("10.0.0.0/8");
  route_.deny_sources = Set("10.9.0.0/16");
  auto satisfy_any = [&](const char* client) {
    return admission_.Admit(AdmissionRequest{route_, Ip(client), false, "", true});
  };
  const Admission inside = satisfy_any("10.1.1.1");
  EXPECT_FALSE(inside.refusal);
  EXPECT_TRUE(inside.source_lets_in);
  // Outside the allowlist, or in the denylist: admitted, but it must authenticate.
  for (const char* client : {"127.0.0.1", "10.9.1.1"}) {
    const Admission other = satisfy_any(client);
    EXPECT_FALSE(other.refusal) << client;
    EXPECT_FALSE(other.source_lets_in) << client;
  }
  // Without satisfy any nobody is let in on the ranges' word alone: they only refuse.
  EXPECT_FALSE(Admit("10.1.1.1").source_lets_in);
  // A denylist without an allowlist lets nobody in by itself.
  route_.allow_sources = CidrSet();
  EXPECT_FALSE(satisfy_any("192.0.2.1").source_lets_in);
  EXPECT_FALSE(satisfy_any("10.9.1.1").refusal);
}

TEST_F(AdmissionTest, SatisfyAnyStillAppliesLimitsAndOrigins) {
  route_.allow_sources = Set("10.0.0.0/8");
  route_.proto.mutable_limits()->set_connections_per_client(1);
  route_.proto.mutable_websocket()->set_origins_restricted(true);
  const Admission first = admission_.Admit(AdmissionRequest{route_, Ip("10.0.0.1"), false, "", true});
  ASSERT_FALSE(first.refusal);
  const Admission second = admission_.Admit(AdmissionRequest{route_, Ip("10.0.0.1"), false, "", true});
  ASSERT_TRUE(second.refusal);
  EXPECT_EQ(second.refusal->status, 429u);
  const Admission upgrade = admission_.Admit(AdmissionRequest{route_, Ip("10.0.0.2"), true, "https://a.com", true});
  ASSERT_TRUE(upgrade.refusal);
  EXPECT_EQ(upgrade.refusal->reason, RefusalReason::kOriginNotAllowed);
}

TEST_F(AdmissionTest, RestrictedOriginsApplyToUpgradesOnly) {
  auto& websocket = *route_.proto.mutable_websocket();
  websocket.set_origins_restricted(true);
  websocket.add_allowed_origins("https://app.example.com");
  websocket.add_allowed_origins("https://*.chat.example.com");
  EXPECT_FALSE(Admit("10.0.0.1", true, "https://app.example.com:443").refusal);
  EXPECT_FALSE(Admit("10.0.0.1", true, "https://eu.chat.example.com").refusal);
  EXPECT_FALSE(Admit("10.0.0.1", false, "https://evil.example.com").refusal);  // plain HTTP: not ours to judge

  Admission other = Admit("10.0.0.1", true, "https://evil.example.com");
  ASSERT_TRUE(other.refusal);
  EXPECT_EQ(other.refusal->status, 403u);
  EXPECT_EQ(other.refusal->reason, RefusalReason::kOriginNotAllowed);
  EXPECT_EQ(other.refusal->message, "origin https://evil.example.com is not in websocket-allowed-origins");

  Admission none = Admit("10.0.0.1", true, "");
  ASSERT_TRUE(none.refusal);
  EXPECT_EQ(none.refusal->reason, RefusalReason::kOriginNotAllowed);
}

TEST_F(AdmissionTest, ARestrictedRouteWithAnEmptyListRefusesEveryUpgrade) {
  route_.proto.mutable_websocket()->set_origins_restricted(true);
  EXPECT_TRUE(Admit("10.0.0.1", true, "https://a.com").refusal);
}

TEST_F(AdmissionTest, ConnectionLimitsHoldUntilTheLeaseGoes) {
  route_.proto.mutable_limits()->set_connections_per_client(2);
  std::vector<Admission> open;
  open.push_back(Admit("10.0.0.1"));
  open.push_back(Admit("10.0.0.1"));
  for (auto& admitted : open) {
    ASSERT_FALSE(admitted.refusal);
    EXPECT_TRUE(admitted.lease.held());
  }
  Admission third = Admit("10.0.0.1");
  ASSERT_TRUE(third.refusal);
  EXPECT_EQ(third.refusal->status, 429u);
  EXPECT_EQ(third.refusal->reason, RefusalReason::kLimitConnections);
  EXPECT_EQ(third.refusal->message, "too many connections from 10.0.0.1 (limit-connections 2)");
  EXPECT_EQ(third.refusal->retry_after_s, 0u);
  EXPECT_FALSE(Admit("10.0.0.2").refusal);  // another client

  open.pop_back();
  EXPECT_FALSE(Admit("10.0.0.1").refusal);
  open.clear();
  EXPECT_EQ(admission_.connections().leases(), 0u);
  EXPECT_EQ(admission_.connections().entries(), 0u);
}

TEST_F(AdmissionTest, MaxConnectionsCountsAllClients) {
  route_.proto.mutable_limits()->set_connections_per_route(2);
  Admission a = Admit("10.0.0.1");
  Admission b = Admit("10.0.0.2");
  Admission c = Admit("10.0.0.3");
  ASSERT_TRUE(c.refusal);
  EXPECT_EQ(c.refusal->status, 429u);
  EXPECT_EQ(c.refusal->reason, RefusalReason::kMaxConnections);
  EXPECT_EQ(c.refusal->message, "route is at its connection limit (max-connections 2)");
}

TEST_F(AdmissionTest, RateLimitRefusesWithRetryAfter) {
  auto& limits = *route_.proto.mutable_limits();
  limits.set_requests_per_second(20);
  limits.set_burst(100);
  int allowed = 0;
  std::optional<Refusal> last;
  for (int i = 0; i < 200; ++i) {
    Admission admitted = Admit("10.0.0.1");
    if (admitted.refusal) {
      last = admitted.refusal;
    } else {
      ++allowed;
    }
  }
  EXPECT_EQ(allowed, 100);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 429u);
  EXPECT_EQ(last->reason, RefusalReason::kRateLimited);
  EXPECT_EQ(last->retry_after_s, 1u);
  EXPECT_EQ(last->message, "rate limit of 20 requests per second exceeded for 10.0.0.1; retry after 1s");
  clock_.Advance(milliseconds(100));
  EXPECT_FALSE(Admit("10.0.0.1").refusal);
  EXPECT_FALSE(Admit("10.0.0.1").refusal);
  EXPECT_TRUE(Admit("10.0.0.1").refusal);
}

TEST_F(AdmissionTest, PerMinuteRatesSayPerMinuteAndWaitLonger) {
  auto& limits = *route_.proto.mutable_limits();
  limits.set_requests_per_second(6.0 / 60);  // limit-rpm 6
  limits.set_burst(1);
  EXPECT_FALSE(Admit("10.0.0.1").refusal);
  Admission refused = Admit("10.0.0.1");
  ASSERT_TRUE(refused.refusal);
  EXPECT_EQ(refused.refusal->retry_after_s, 10u);
  EXPECT_EQ(refused.refusal->message, "rate limit of 6 requests per minute exceeded for 10.0.0.1; retry after 10s");
}

TEST_F(AdmissionTest, ARateRefusalGivesTheConnectionCountBack) {
  auto& limits = *route_.proto.mutable_limits();
  limits.set_connections_per_client(5);
  limits.set_requests_per_second(1);
  limits.set_burst(1);
  Admission first = Admit("10.0.0.1");
  ASSERT_FALSE(first.refusal);
  ASSERT_TRUE(Admit("10.0.0.1").refusal);
  EXPECT_EQ(admission_.connections().ClientCount(route_.name, ClientKey::From(Ip("10.0.0.1"))), 1u);
}

TEST_F(AdmissionTest, LimitAllowlistIsExemptFromEveryLimitButNotFromAccessRules) {
  auto& limits = *route_.proto.mutable_limits();
  limits.set_connections_per_client(1);
  limits.set_connections_per_route(1);
  limits.set_requests_per_second(1);
  limits.set_burst(1);
  route_.limit_exempt_sources = Set("10.1.0.0/16");
  route_.deny_sources = Set("10.1.9.9");
  std::vector<Admission> open;
  for (int i = 0; i < 50; ++i) {
    open.push_back(Admit("10.1.2.3"));
    ASSERT_FALSE(open.back().refusal);
    EXPECT_FALSE(open.back().lease.held());
  }
  EXPECT_TRUE(Admit("10.1.9.9").refusal);
  Admission outsider = Admit("10.2.0.1");
  EXPECT_FALSE(outsider.refusal);
  EXPECT_TRUE(Admit("10.2.0.2").refusal);  // max-connections 1 still applies to others
}

TEST_F(AdmissionTest, SourceRulesComeBeforeLimitsSoRefusedClientsSpendNothing) {
  auto& limits = *route_.proto.mutable_limits();
  limits.set_requests_per_second(1);
  limits.set_burst(1);
  route_.deny_sources = Set("10.0.0.9");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Admit("10.0.0.9").refusal->reason, RefusalReason::kDeniedSource);
  EXPECT_EQ(admission_.rates().size(), 0u);
}

}  // namespace
}  // namespace pier::dataplane::limits
