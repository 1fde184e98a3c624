#include "http/error_response.h"

#include <gtest/gtest.h>

namespace pier::dataplane::http {
namespace {

namespace bhttp = boost::beast::http;

TEST(ErrorResponse, OneLineTextBody) {
  auto response = MakeErrorResponse(404, "no route for host a path /x", true);
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_EQ(response.body(), "no route for host a path /x\n");
  EXPECT_EQ(response[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(response[bhttp::field::content_length], std::to_string(response.body().size()));
  EXPECT_EQ(response[bhttp::field::connection], "keep-alive");
}

TEST(ErrorResponse, ControlCharactersCannotSplitTheLine) {
  auto response = MakeErrorResponse(503, "a\r\nInjected: yes", false);
  EXPECT_EQ(response.body(), "a  Injected: yes\n");
  EXPECT_EQ(response[bhttp::field::connection], "close");
}

TEST(ErrorResponse, HeadHasLengthButNoBody) {
  auto response = MakeErrorResponse(404, "nope", true, /*head_request=*/true);
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(response[bhttp::field::content_length], "5");
}

TEST(ErrorResponse, NoContentHasNoBodyNorLength) {
  auto response = MakeErrorResponse(204, "CORS preflight answered", true);
  EXPECT_EQ(response.result_int(), 204u);
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(response.find(bhttp::field::content_length), response.end());
  EXPECT_EQ(response.find(bhttp::field::content_type), response.end());
  EXPECT_EQ(response[bhttp::field::connection], "keep-alive");
}

}  // namespace
}  // namespace pier::dataplane::http
