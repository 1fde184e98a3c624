#include <gtest/gtest.h>

#include "server/grpc_server.h"

namespace pier::server {
namespace {

TEST(GrpcOptionsTest, LoopbackPlaintextIsFine) {
  EXPECT_TRUE(CheckGrpcOptions({.listen = "127.0.0.1:18000"}));
  EXPECT_TRUE(CheckGrpcOptions({.listen = "[::1]:18000"}));
  EXPECT_TRUE(CheckGrpcOptions({.listen = "localhost:0"}));
}

TEST(GrpcOptionsTest, NonLoopbackPlaintextNeedsExplicitInsecure) {
  for (const char* listen : {":18000", "0.0.0.0:18000", "10.1.2.3:18000", "[::]:18000"}) {
    auto refused = CheckGrpcOptions({.listen = listen});
    ASSERT_FALSE(refused) << listen;
    EXPECT_NE(refused.error().find("--grpc-insecure"), std::string::npos) << refused.error();
    EXPECT_TRUE(CheckGrpcOptions({.listen = listen, .insecure = true})) << listen;
  }
}

TEST(GrpcOptionsTest, MutualTlsNeedsAllThreeFiles) {
  EXPECT_TRUE(CheckGrpcOptions(
      {.listen = ":18000", .tls_cert_file = "c.pem", .tls_key_file = "k.pem", .client_ca_file = "ca.pem"}));
  auto partial = CheckGrpcOptions({.listen = ":18000", .tls_cert_file = "c.pem", .tls_key_file = "k.pem"});
  ASSERT_FALSE(partial);
  EXPECT_NE(partial.error().find("--grpc-client-ca"), std::string::npos);
  // Even on loopback: half a TLS configuration is a mistake, not a request for plaintext.
  EXPECT_FALSE(CheckGrpcOptions({.listen = "127.0.0.1:1", .tls_cert_file = "c.pem"}));
}

TEST(GrpcOptionsTest, BadAddressNamesTheFlag) {
  auto bad = CheckGrpcOptions({.listen = "nowhere"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("--grpc-listen"), std::string::npos);
}

TEST(GrpcOptionsTest, UnreadableCertificateFailsStart) {
  SnapshotService service;
  auto server = GrpcServer::Start(
      {.listen = "127.0.0.1:0", .tls_cert_file = "/nonexistent/c.pem", .tls_key_file = "k", .client_ca_file = "ca"},
      service);
  ASSERT_FALSE(server);
  EXPECT_NE(server.error().find("--grpc-tls-cert"), std::string::npos) << server.error();
}

}  // namespace
}  // namespace pier::server
