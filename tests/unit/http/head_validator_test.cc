// The strict head checks, case by case: every framing ambiguity RFC 9112 names, each with the
// status a client gets, plus the valid forms that must keep working.
#include "http/head_validator.h"

#include <gtest/gtest.h>

#include <string>

namespace pier::dataplane::http {
namespace {

Violation CheckRequest(const std::string& head, HeadLimits limits = {}) {
  std::size_t resume = 0;
  std::size_t end = FindHeadEnd(head, resume);
  EXPECT_EQ(end, head.size()) << "test head must be exactly one complete head: " << head;
  return ValidateHead(HeadKind::kRequest, std::string_view(head).substr(0, end), limits);
}

Violation CheckResponse(const std::string& head) {
  std::size_t resume = 0;
  std::size_t end = FindHeadEnd(head, resume);
  EXPECT_EQ(end, head.size()) << head;
  return ValidateHead(HeadKind::kResponse, std::string_view(head).substr(0, end), HeadLimits{});
}

std::string Get(const std::string& fields, const std::string& line = "GET / HTTP/1.1") {
  return line + "\r\n" + fields + "\r\n";
}

struct Case {
  const char* name;
  std::string head;
  Violation expected;
};

class RequestHead : public ::testing::TestWithParam<Case> {};

TEST_P(RequestHead, IsJudged) {
  const Case& c = GetParam();
  EXPECT_EQ(CheckRequest(c.head), c.expected) << ReasonFor(CheckRequest(c.head));
}

INSTANTIATE_TEST_SUITE_P(
    Framing, RequestHead,
    ::testing::Values(
        Case{"plain_get", Get("Host: a.example\r\n"), Violation::kNone},
        Case{"host_with_port", Get("Host: a.example:8080\r\n"), Violation::kNone},
        Case{"host_ipv6", Get("Host: [2001:db8::1]:80\r\n"), Violation::kNone},
        Case{"empty_host_value", Get("Host:\r\n"), Violation::kNone},
        Case{"content_length", Get("Host: a\r\nContent-Length: 5\r\n", "POST / HTTP/1.1"), Violation::kNone},
        Case{"chunked", Get("Host: a\r\nTransfer-Encoding: chunked\r\n", "POST / HTTP/1.1"), Violation::kNone},
        Case{"chunked_case_and_empty_elements", Get("Host: a\r\nTransfer-Encoding: , Chunked ,\r\n", "POST / HTTP/1.1"),
             Violation::kNone},
        Case{"http10_without_host", Get("", "GET / HTTP/1.0"), Violation::kNone},
        Case{"absolute_form", Get("Host: ignored\r\n", "GET http://a.example:81/p?q HTTP/1.1"), Violation::kNone},
        Case{"asterisk_options", Get("Host: a\r\n", "OPTIONS * HTTP/1.1"), Violation::kNone},
        Case{"obs_text_value", Get("Host: a\r\nX-Name: caf\xc3\xa9\r\n"), Violation::kNone},
        Case{"upgrade_get", Get("Host: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"), Violation::kNone},
        Case{"upgrade_post_http10_ignored", Get("Connection: Upgrade\r\nUpgrade: websocket\r\n", "POST / HTTP/1.0"),
             Violation::kNone},
        Case{"upgrade_h2c_post_ignored", Get("Host: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n", "POST / HTTP/1.1"),
             Violation::kNone},

        Case{"cl_and_te", Get("Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n", "POST / HTTP/1.1"),
             Violation::kContentLengthWithTransferEncoding},
        Case{"te_and_cl", Get("Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n", "POST / HTTP/1.1"),
             Violation::kContentLengthWithTransferEncoding},
        Case{"cl_differing", Get("Host: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n", "POST / HTTP/1.1"),
             Violation::kDuplicateContentLength},
        Case{"cl_identical_twice", Get("Host: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n", "POST / HTTP/1.1"),
             Violation::kDuplicateContentLength},
        Case{"cl_list", Get("Host: a\r\nContent-Length: 5, 5\r\n", "POST / HTTP/1.1"), Violation::kBadContentLength},
        Case{"cl_sign", Get("Host: a\r\nContent-Length: +5\r\n", "POST / HTTP/1.1"), Violation::kBadContentLength},
        Case{"cl_empty", Get("Host: a\r\nContent-Length:\r\n", "POST / HTTP/1.1"), Violation::kBadContentLength},
        Case{"cl_overflow", Get("Host: a\r\nContent-Length: 18446744073709551616\r\n", "POST / HTTP/1.1"),
             Violation::kBadContentLength},
        Case{"te_chunked_not_last", Get("Host: a\r\nTransfer-Encoding: chunked, gzip\r\n", "POST / HTTP/1.1"),
             Violation::kChunkedNotLast},
        Case{"te_chunked_twice", Get("Host: a\r\nTransfer-Encoding: chunked, chunked\r\n", "POST / HTTP/1.1"),
             Violation::kChunkedNotLast},
        Case{"te_two_fields", Get("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "POST / HTTP/1.1"),
             Violation::kChunkedNotLast},
        Case{"te_gzip_only", Get("Host: a\r\nTransfer-Encoding: gzip\r\n", "POST / HTTP/1.1"), Violation::kChunkedNotLast},
        Case{"te_unknown", Get("Host: a\r\nTransfer-Encoding: foo\r\n", "POST / HTTP/1.1"),
             Violation::kUnsupportedTransferCoding},
        Case{"te_unknown_then_chunked", Get("Host: a\r\nTransfer-Encoding: foo, chunked\r\n", "POST / HTTP/1.1"),
             Violation::kUnsupportedTransferCoding},
        Case{"te_gzip_then_chunked", Get("Host: a\r\nTransfer-Encoding: gzip, chunked\r\n", "POST / HTTP/1.1"),
             Violation::kUnsupportedTransferCoding},
        Case{"te_identity", Get("Host: a\r\nTransfer-Encoding: identity\r\n", "POST / HTTP/1.1"),
             Violation::kUnsupportedTransferCoding},
        Case{"te_empty", Get("Host: a\r\nTransfer-Encoding: \r\n", "POST / HTTP/1.1"), Violation::kBadTransferEncoding},
        Case{"te_chunked_then_empty_field", Get("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: \r\n", "POST / HTTP/1.1"),
             Violation::kBadTransferEncoding},
        Case{"te_chunked_with_parameter", Get("Host: a\r\nTransfer-Encoding: chunked;q=1\r\n", "POST / HTTP/1.1"),
             Violation::kBadTransferEncoding},
        Case{"te_http10", Get("Transfer-Encoding: chunked\r\n", "POST / HTTP/1.0"), Violation::kTransferEncodingOnHttp10},
        Case{"obs_fold_space", Get("Host: a\r\nX-A: b\r\n c\r\n"), Violation::kObsFold},
        Case{"obs_fold_tab", Get("Host: a\r\nX-A: b\r\n\tc\r\n"), Violation::kObsFold},
        Case{"space_before_colon", Get("Host: a\r\nContent-Length : 5\r\n", "POST / HTTP/1.1"),
             Violation::kSpaceBeforeColon},
        Case{"tab_before_colon", Get("Host\t: a\r\n"), Violation::kSpaceBeforeColon},
        Case{"bare_cr_in_value", Get("Host: a\r\nX-A: b\rc\r\n"), Violation::kBareCarriageReturn},
        Case{"bare_cr_in_request_line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", Violation::kBareCarriageReturn},
        Case{"bare_lf_field", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", Violation::kBareLineFeed},
        Case{"bare_lf_everywhere", "GET / HTTP/1.1\nHost: a\n\n", Violation::kBareLineFeed},
        // As many CRs as LFs, but not in pairs; and every LF paired with one CR too many.
        Case{"cr_and_lf_apart", Get("Host: a\r\nX-A: b\rc\nd\r\n"), Violation::kBareCarriageReturn},
        Case{"lf_then_cr_apart", Get("Host: a\r\nX-A: b\nc\rd\r\n"), Violation::kBareLineFeed},
        Case{"double_cr", Get("Host: a\r\r\n"), Violation::kBareCarriageReturn},
        Case{"nul_in_value", Get(std::string("Host: a\r\nX: b\0c\r\n", 17)), Violation::kBadFieldValue},
        Case{"del_in_value", Get("Host: a\r\nX: b\x7f\r\n"), Violation::kBadFieldValue},
        Case{"empty_field_name", Get("Host: a\r\n: x\r\n"), Violation::kBadFieldName},
        Case{"no_colon", Get("Host: a\r\nJunk\r\n"), Violation::kBadFieldName},
        Case{"name_with_slash", Get("Host: a\r\nX/Y: z\r\n"), Violation::kBadFieldName},
        Case{"missing_host", Get("X: y\r\n"), Violation::kMissingHost},
        Case{"duplicate_host", Get("Host: a\r\nHost: b\r\n"), Violation::kDuplicateHost},
        Case{"duplicate_host_same", Get("Host: a\r\nHost: a\r\n"), Violation::kDuplicateHost},
        Case{"host_with_space", Get("Host: a b\r\n"), Violation::kBadHost},
        Case{"host_with_slash", Get("Host: a/b\r\n"), Violation::kBadHost},
        Case{"host_with_userinfo", Get("Host: u@a\r\n"), Violation::kBadHost},
        Case{"host_bad_port", Get("Host: a:80x\r\n"), Violation::kBadHost},
        Case{"host_two_colons", Get("Host: a:1:2\r\n"), Violation::kBadHost},
        Case{"host_bad_percent", Get("Host: a%zz\r\n"), Violation::kBadHost},
        Case{"host_unclosed_bracket", Get("Host: [::1\r\n"), Violation::kBadHost},
        Case{"absolute_missing_host_header", Get("", "GET http://a.example/ HTTP/1.1"), Violation::kMissingHost},
        Case{"absolute_userinfo", Get("Host: a\r\n", "GET http://u:p@a.example/ HTTP/1.1"),
             Violation::kBadAbsoluteTarget},
        Case{"absolute_empty_authority", Get("Host: a\r\n", "GET http:///p HTTP/1.1"), Violation::kBadAbsoluteTarget},
        Case{"absolute_other_scheme", Get("Host: a\r\n", "GET ftp://a.example/ HTTP/1.1"), Violation::kBadTarget},
        Case{"authority_form_get", Get("Host: a\r\n", "GET a.example:443 HTTP/1.1"), Violation::kBadTarget},
        Case{"connect", Get("Host: a:443\r\n", "CONNECT a:443 HTTP/1.1"), Violation::kConnectNotSupported},
        Case{"asterisk_get", Get("Host: a\r\n", "GET * HTTP/1.1"), Violation::kBadTarget},
        Case{"target_high_byte", Get("Host: a\r\n", "GET /\xff HTTP/1.1"), Violation::kBadTarget},
        Case{"target_fragment", Get("Host: a\r\n", "GET /a#b HTTP/1.1"), Violation::kBadTarget},
        Case{"two_spaces", Get("Host: a\r\n", "GET  / HTTP/1.1"), Violation::kBadTarget},
        Case{"no_version", Get("Host: a\r\n", "GET /"), Violation::kBadRequestLine},
        Case{"lowercase_version", Get("Host: a\r\n", "GET / http/1.1"), Violation::kBadVersion},
        Case{"version_trailing_space", Get("Host: a\r\n", "GET / HTTP/1.1 "), Violation::kBadVersion},
        Case{"http2", Get("Host: a\r\n", "GET / HTTP/2.0"), Violation::kUnsupportedVersion},
        Case{"http12", Get("Host: a\r\n", "GET / HTTP/1.2"), Violation::kUnsupportedVersion},
        Case{"method_with_slash", Get("Host: a\r\n", "GE/T / HTTP/1.1"), Violation::kBadMethod},
        Case{"leading_empty_line", "\r\n", Violation::kBadRequestLine},
        Case{"upgrade_post", Get("Host: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n", "POST / HTTP/1.1"),
             Violation::kUpgradeNotGet},
        Case{"upgrade_head_list", Get("Host: a\r\nConnection: keep-alive, upgrade\r\nUpgrade: foo, WebSocket\r\n",
                                      "HEAD / HTTP/1.1"),
             Violation::kUpgradeNotGet}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(RequestHeadStatus, MapsToTheRightCodes) {
  EXPECT_EQ(RequestStatusFor(Violation::kUnsupportedTransferCoding), 501u);
  EXPECT_EQ(RequestStatusFor(Violation::kConnectNotSupported), 501u);
  EXPECT_EQ(RequestStatusFor(Violation::kHeadTooLarge), 431u);
  EXPECT_EQ(RequestStatusFor(Violation::kTooManyFields), 431u);
  EXPECT_EQ(RequestStatusFor(Violation::kUnsupportedVersion), 505u);
  for (int i = 1; i < static_cast<int>(Violation::kCount); ++i) {
    auto status = RequestStatusFor(static_cast<Violation>(i));
    EXPECT_TRUE(status == 400 || status == 431 || status == 501 || status == 505) << i;
    EXPECT_FALSE(ReasonFor(static_cast<Violation>(i)).empty()) << i;
  }
}

TEST(RequestHeadLimits, BytesAndFieldCount) {
  std::string head = Get("Host: a\r\nX-Pad: " + std::string(100, 'p') + "\r\n");
  EXPECT_EQ(CheckRequest(head, HeadLimits{.max_bytes = head.size()}), Violation::kNone);
  EXPECT_EQ(CheckRequest(head, HeadLimits{.max_bytes = head.size() - 1}), Violation::kHeadTooLarge);
  std::string many = "Host: a\r\n";
  for (int i = 0; i < 10; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(CheckRequest(Get(many), HeadLimits{.max_fields = 11}), Violation::kNone);
  EXPECT_EQ(CheckRequest(Get(many), HeadLimits{.max_fields = 10}), Violation::kTooManyFields);
}

TEST(FindHeadEnd, ResumesAcrossReadsAndStopsAtTheFirstEmptyLine) {
  std::string full = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\n";
  std::size_t resume = 0;
  std::size_t end = std::string::npos;
  // Fed one byte at a time, as a slow client sends it: found exactly once, at the right place.
  for (std::size_t n = 1; n <= full.size(); ++n) {
    end = FindHeadEnd(std::string_view(full).substr(0, n), resume);
    if (end != std::string::npos) {
      EXPECT_EQ(n, 27u);
      break;
    }
    EXPECT_LE(resume, n);
  }
  EXPECT_EQ(end, 27u);
}

TEST(FindHeadEnd, BareLineFeedHeadsEndSoTheyCanBeRefused) {
  std::size_t resume = 0;
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\nHost: a\n\nrest", resume), 24u);
  resume = 0;
  EXPECT_EQ(FindHeadEnd("\r\nGET / HTTP/1.1\r\n", resume), 2u);
  resume = 0;
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n", resume), std::string::npos);
}

TEST(ResponseHead, FramingRules) {
  EXPECT_EQ(CheckResponse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"), Violation::kNone);
  EXPECT_EQ(CheckResponse("HTTP/1.1 204\r\n\r\n"), Violation::kNone);
  EXPECT_EQ(CheckResponse("HTTP/1.0 200 OK\r\n\r\n"), Violation::kNone);
  EXPECT_EQ(CheckResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), Violation::kNone);
  EXPECT_EQ(CheckResponse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Violation::kContentLengthWithTransferEncoding);
  EXPECT_EQ(CheckResponse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n"),
            Violation::kDuplicateContentLength);
  EXPECT_EQ(CheckResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), Violation::kChunkedNotLast);
  EXPECT_EQ(CheckResponse("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), Violation::kObsFold);
  EXPECT_EQ(CheckResponse("HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), Violation::kSpaceBeforeColon);
  EXPECT_EQ(CheckResponse("HTTP/1.1 2000 OK\r\n\r\n"), Violation::kBadStatusLine);
  EXPECT_EQ(CheckResponse("HTTP/1.1 099 OK\r\n\r\n"), Violation::kBadStatusLine);
  EXPECT_EQ(CheckResponse("HTTP/1.1 200OK\r\n\r\n"), Violation::kBadStatusLine);
  EXPECT_EQ(CheckResponse("HTTX/1.1 200 OK\r\n\r\n"), Violation::kBadStatusLine);
  // Responses need no Host, and Host rules are not applied to them.
  EXPECT_EQ(CheckResponse("HTTP/1.1 200 OK\r\nHost: a b\r\n\r\n"), Violation::kNone);
}

TEST(HostPort, Grammar) {
  EXPECT_TRUE(IsValidHostPort("a.example"));
  EXPECT_TRUE(IsValidHostPort("a.example:"));
  EXPECT_TRUE(IsValidHostPort("xn--bcher-kva.example:65535"));
  EXPECT_TRUE(IsValidHostPort("10.0.0.1:80"));
  EXPECT_TRUE(IsValidHostPort("[::1]"));
  EXPECT_TRUE(IsValidHostPort("a%41b"));
  EXPECT_FALSE(IsValidHostPort("a:123456"));
  EXPECT_FALSE(IsValidHostPort("[::1]x"));
  EXPECT_FALSE(IsValidHostPort("[]"));
  EXPECT_FALSE(IsValidHostPort("a\"b"));
  EXPECT_FALSE(IsValidHostPort("a\\b"));
}

}  // namespace
}  // namespace pier::dataplane::http
