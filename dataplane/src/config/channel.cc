#include "config/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <fstream>
#include <sstream>

namespace pier::dataplane {
namespace {

// The scale target (50,000 endpoints, thousands of certificates) makes snapshots of tens of MiB.
constexpr int kMaxSnapshotBytes = 256 << 20;

// Keepalive notices a controller that vanished without closing TCP (its node died, a network
// partition), which a controller restart never does: within 40 s the stream fails and the
// channel reconnects, through the Service, to a live replica. pier-controller accepts pings
// every 10 s without data (controller/src/server/grpc_server.cc); a gRPC server with the
// default policy would answer pings this frequent with GOAWAY.
constexpr int kKeepaliveTimeMs = 30 * 1000;
constexpr int kKeepaliveTimeoutMs = 10 * 1000;

Result<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(std::string(what) + " " + path + " cannot be read");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in.good() && !in.eof()) return Fail(std::string(what) + " " + path + " cannot be read");
  if (contents.str().empty()) return Fail(std::string(what) + " " + path + " is empty");
  return contents.str();
}

}  // namespace

Result<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const ChannelTls& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return Fail("--grpc-tls-cert and --grpc-tls-key must be given together");
  }
  if (tls.ca_file.empty()) return Fail("--grpc-ca is required for TLS to the controller");
  grpc::SslCredentialsOptions options;
  auto ca = ReadFile(tls.ca_file, "--grpc-ca");
  if (!ca) return Fail(ca.error());
  options.pem_root_certs = std::move(*ca);
  if (!tls.cert_file.empty()) {
    auto cert = ReadFile(tls.cert_file, "--grpc-tls-cert");
    if (!cert) return Fail(cert.error());
    auto key = ReadFile(tls.key_file, "--grpc-tls-key");
    if (!key) return Fail(key.error());
    options.pem_cert_chain = std::move(*cert);
    options.pem_private_key = std::move(*key);
  }
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::Channel> MakeControllerChannel(const std::string& target,
                                                     const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                                                     std::chrono::milliseconds reconnect_backoff) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxSnapshotBytes);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  const int backoff_ms = static_cast<int>(reconnect_backoff.count());
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, backoff_ms);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, backoff_ms);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, backoff_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return grpc::CreateCustomChannel(target, credentials, args);
}

}  // namespace pier::dataplane
