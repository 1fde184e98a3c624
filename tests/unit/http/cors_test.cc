#include "http/cors.h"

#include <gtest/gtest.h>

namespace pier::dataplane::http {
namespace {

namespace bhttp = boost::beast::http;

v1::Cors Listed() {
  v1::Cors cors;
  cors.set_enabled(true);
  cors.add_allow_origins("https://app.example.com");
  cors.add_allow_origins("https://*.example.org");
  cors.set_allow_methods("GET, POST");
  cors.set_allow_headers("X-Token");
  cors.set_expose_headers("X-Total");
  cors.set_allow_credentials(true);
  cors.set_max_age_s(600);
  return cors;
}

bhttp::fields WithOrigin(std::string_view origin) {
  bhttp::fields request;
  request.set(bhttp::field::origin, origin);
  return request;
}

TEST(Cors, OffAddsNothing) {
  v1::Cors cors;
  const CorsAnswer answer = DecideCors(cors, WithOrigin("https://app.example.com"), true);
  EXPECT_EQ(answer.allow_origin, "");
  EXPECT_FALSE(answer.preflight);
  bhttp::fields response;
  AddCorsHeaders(cors, answer, response);
  EXPECT_EQ(response.begin(), response.end());
}

TEST(Cors, AListedOriginIsEchoedAsSent) {
  const v1::Cors cors = Listed();
  EXPECT_EQ(DecideCors(cors, WithOrigin("https://App.Example.com"), false).allow_origin, "https://App.Example.com");
  EXPECT_EQ(DecideCors(cors, WithOrigin("https://app.example.com:443"), false).allow_origin,
            "https://app.example.com:443");
  EXPECT_EQ(DecideCors(cors, WithOrigin("https://a.example.org"), false).allow_origin, "https://a.example.org");
  for (const char* other : {"http://app.example.com", "https://app.example.com:8443", "https://evil.example.com",
                            "https://a.b.example.org", "https://example.org", "null", "https://app.example.com.evil"}) {
    EXPECT_EQ(DecideCors(cors, WithOrigin(other), false).allow_origin, "") << other;
  }
  EXPECT_EQ(DecideCors(cors, bhttp::fields{}, false).allow_origin, "");
  bhttp::fields two = WithOrigin("https://app.example.com");
  two.insert(bhttp::field::origin, "https://app.example.com");
  EXPECT_EQ(DecideCors(cors, two, false).allow_origin, "");  // two Origins are none
}

TEST(Cors, AnyOriginIsAStarEvenWithoutOrigin) {
  v1::Cors cors = Listed();
  cors.clear_allow_origins();
  EXPECT_EQ(DecideCors(cors, WithOrigin("https://x.test"), false).allow_origin, "*");
  const CorsAnswer no_origin = DecideCors(cors, bhttp::fields{}, true);
  EXPECT_EQ(no_origin.allow_origin, "*");
  EXPECT_FALSE(no_origin.preflight);  // an OPTIONS without Origin is not a preflight: the backend's
  bhttp::fields response;
  AddCorsHeaders(cors, no_origin, response);
  EXPECT_EQ(response.find(bhttp::field::vary), response.end());  // "*" does not vary
}

TEST(Cors, PreflightHeaders) {
  const v1::Cors cors = Listed();
  const CorsAnswer answer = DecideCors(cors, WithOrigin("https://app.example.com"), true);
  ASSERT_TRUE(answer.preflight);
  bhttp::fields response;
  AddCorsHeaders(cors, answer, response);
  EXPECT_EQ(response[bhttp::field::access_control_allow_origin], "https://app.example.com");
  EXPECT_EQ(response[bhttp::field::access_control_allow_credentials], "true");
  EXPECT_EQ(response[bhttp::field::access_control_allow_methods], "GET, POST");
  EXPECT_EQ(response[bhttp::field::access_control_allow_headers], "X-Token");
  EXPECT_EQ(response[bhttp::field::access_control_max_age], "600");
  EXPECT_EQ(response[bhttp::field::vary], "Origin");
  EXPECT_EQ(response.find(bhttp::field::access_control_expose_headers), response.end());
  EXPECT_FALSE(DecideCors(cors, WithOrigin("https://evil.example"), true).preflight);
}

TEST(Cors, ResponseHeadersReplaceTheBackendsAndKeepItsVary) {
  v1::Cors cors = Listed();
  cors.set_allow_credentials(false);
  const CorsAnswer answer = DecideCors(cors, WithOrigin("https://app.example.com"), false);
  bhttp::fields response;
  response.set(bhttp::field::access_control_allow_origin, "*");
  response.set(bhttp::field::access_control_allow_credentials, "true");
  response.set(bhttp::field::vary, "Accept-Encoding");
  AddCorsHeaders(cors, answer, response);
  EXPECT_EQ(response[bhttp::field::access_control_allow_origin], "https://app.example.com");
  EXPECT_EQ(response.count(bhttp::field::access_control_allow_origin), 1u);
  EXPECT_EQ(response.find(bhttp::field::access_control_allow_credentials), response.end());
  EXPECT_EQ(response[bhttp::field::access_control_expose_headers], "X-Total");
  EXPECT_EQ(response.find(bhttp::field::access_control_allow_methods), response.end());
  EXPECT_EQ(response.count(bhttp::field::vary), 2u);

  bhttp::fields already;
  already.set(bhttp::field::vary, "accept-encoding, ORIGIN");
  AddCorsHeaders(cors, answer, already);
  EXPECT_EQ(already.count(bhttp::field::vary), 1u);
}

TEST(Cors, AnOriginNotListedStillVaries) {
  const v1::Cors cors = Listed();
  const CorsAnswer answer = DecideCors(cors, WithOrigin("https://evil.example"), false);
  bhttp::fields response;
  response.set(bhttp::field::access_control_allow_origin, "https://evil.example");  // the backend's own
  AddCorsHeaders(cors, answer, response);
  EXPECT_EQ(response[bhttp::field::vary], "Origin");
  EXPECT_EQ(response[bhttp::field::access_control_allow_origin], "https://evil.example");  // untouched
  EXPECT_EQ(response.find(bhttp::field::access_control_allow_credentials), response.end());
}

}  // namespace
}  // namespace pier::dataplane::http
