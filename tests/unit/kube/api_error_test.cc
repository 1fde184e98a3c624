#include "kube/api_error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pier::kube {
namespace {

TEST(ErrorFromResponse, ReadsTheStatusObject) {
  const char* body =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"ingresses.networking.k8s.io \"web\" not found","reason":"NotFound","code":404})";
  ApiError error = ErrorFromResponse(404, body);
  EXPECT_EQ(error.http_status, 404);
  EXPECT_EQ(error.reason, "NotFound");
  EXPECT_EQ(error.message, "ingresses.networking.k8s.io \"web\" not found");
  EXPECT_FALSE(error.IsGone());
  EXPECT_EQ(error.Describe(), "HTTP 404 NotFound: ingresses.networking.k8s.io \"web\" not found");
}

TEST(ErrorFromResponse, KeepsTheHttpStatusForNonStatusBodies) {
  ApiError error = ErrorFromResponse(502, "<html>bad gateway</html>");
  EXPECT_EQ(error.http_status, 502);
  EXPECT_EQ(error.reason, "");
  EXPECT_EQ(error.message, "<html>bad gateway</html>");
}

TEST(ErrorFromResponse, TruncatesHugeBodies) {
  ApiError error = ErrorFromResponse(500, std::string(100000, 'x'));
  EXPECT_LT(error.message.size(), 1000u);
}

TEST(ErrorFromResponse, ReadsRetryAfterFromDetails) {
  ApiError error = ErrorFromResponse(
      429, R"({"kind":"Status","reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":3}})");
  EXPECT_TRUE(error.IsThrottled());
  EXPECT_EQ(error.retry_after, std::chrono::seconds(3));
}

TEST(ErrorFromStatus, RecognisesExpiredAsGone) {
  auto status = nlohmann::json::parse(
      R"j({"kind":"Status","status":"Failure","message":"too old resource version: 5 (90)","reason":"Expired","code":410})j");
  ApiError error = ErrorFromStatus(status);
  EXPECT_EQ(error.http_status, 410);
  EXPECT_TRUE(error.IsGone());
  // Some servers put only the reason, without a code.
  EXPECT_TRUE(ErrorFromStatus(nlohmann::json{{"reason", "Expired"}}).IsGone());
  EXPECT_FALSE(ErrorFromStatus(nlohmann::json{{"reason", "InternalError"}, {"code", 500}}).IsGone());
}

TEST(ErrorFromStatus, SurvivesMalformedStatus) {
  EXPECT_EQ(ErrorFromStatus(nlohmann::json::array()).message, "malformed Status object");
  ApiError error = ErrorFromStatus(nlohmann::json{{"code", "410"}, {"reason", 7}});
  EXPECT_EQ(error.http_status, 0);
  EXPECT_EQ(error.reason, "");
}

TEST(ParseRetryAfter, SecondsOnly) {
  EXPECT_EQ(ParseRetryAfter("5"), std::chrono::seconds(5));
  EXPECT_EQ(ParseRetryAfter(" 12 "), std::chrono::seconds(12));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::chrono::seconds(0));
  EXPECT_EQ(ParseRetryAfter("-1"), std::chrono::seconds(0));
  EXPECT_EQ(ParseRetryAfter(""), std::chrono::seconds(0));
}

TEST(ApiError, DescribesLocalAndCancelledErrors) {
  EXPECT_EQ(ClientError("connection refused").Describe(), "connection refused");
  ApiError cancelled;
  cancelled.cancelled = true;
  EXPECT_EQ(cancelled.Describe(), "cancelled");
}

}  // namespace
}  // namespace pier::kube
