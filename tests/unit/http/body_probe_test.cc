// The dry run over buffered body bytes refuses exactly what Beast would refuse later, and
// nothing that is merely incomplete.
#include "http/body_probe.h"

#include <gtest/gtest.h>

#include <string>

namespace pier::dataplane::http {
namespace {

const std::string kChunkedHead = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST(BodyProbe, ValidAndIncompleteChunkedBodiesPass) {
  EXPECT_FALSE(ProbeBufferedMessage(HeadKind::kRequest, kChunkedHead + "5\r\nhello\r\n0\r\n\r\n"));
  EXPECT_FALSE(ProbeBufferedMessage(HeadKind::kRequest, kChunkedHead + "5;ext=1\r\nhel"));
  EXPECT_FALSE(ProbeBufferedMessage(HeadKind::kRequest, kChunkedHead));
  // A pipelined request after the body is not part of this message.
  EXPECT_FALSE(ProbeBufferedMessage(HeadKind::kRequest, kChunkedHead + "0\r\n\r\nGARBAGE\r\n\r\n"));
}

TEST(BodyProbe, MalformedChunkSizesAreRefused) {
  for (std::string bad : {"0x5\r\nhello\r\n0\r\n\r\n", "+5\r\nhello\r\n0\r\n\r\n", "5_0\r\nhello\r\n0\r\n\r\n",
                          "_5\r\nhello\r\n0\r\n\r\n", "1ffffffffffffffff\r\nx\r\n0\r\n\r\n", "-1\r\n\r\n",
                          "5\r\nhelloXX\r\n0\r\n\r\n", "zz\r\n"}) {
    EXPECT_TRUE(ProbeBufferedMessage(HeadKind::kRequest, kChunkedHead + bad)) << bad;
  }
}

TEST(BodyProbe, ResponsesToo) {
  std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_FALSE(ProbeBufferedMessage(HeadKind::kResponse, head + "3\r\nabc\r\n"));
  // Beast reads "0x3" as a last chunk "0" with a malformed extension: refused once the end of
  // the (would-be) trailer section is in.
  EXPECT_TRUE(ProbeBufferedMessage(HeadKind::kResponse, head + "0x3\r\nabc\r\n0\r\n\r\n"));
}

}  // namespace
}  // namespace pier::dataplane::http
