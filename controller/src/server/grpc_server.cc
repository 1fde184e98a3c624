#include "server/grpc_server.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "pier/common/address.h"

namespace pier::server {
namespace {

Result<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(std::string(flag) + ": cannot read \"" + path + "\"");
  std::ostringstream text;
  text << in.rdbuf();
  std::string pem = std::move(text).str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return Fail(std::string(flag) + ": \"" + path + "\" holds no PEM block");
  }
  return pem;
}

bool HasTls(const GrpcServerOptions& options) {
  return !options.tls_cert_file.empty() || !options.tls_key_file.empty() || !options.client_ca_file.empty();
}

Result<std::shared_ptr<grpc::ServerCredentials>> Credentials(const GrpcServerOptions& options) {
  if (!HasTls(options)) return grpc::InsecureServerCredentials();
  auto cert = ReadPem(options.tls_cert_file, "--grpc-tls-cert");
  if (!cert) return Fail(cert.error());
  auto key = ReadPem(options.tls_key_file, "--grpc-tls-key");
  if (!key) return Fail(key.error());
  auto ca = ReadPem(options.client_ca_file, "--grpc-client-ca");
  if (!ca) return Fail(ca.error());
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = std::move(*ca);
  ssl.pem_key_cert_pairs.push_back({std::move(*key), std::move(*cert)});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

Result<boost::asio::ip::tcp::endpoint> CheckGrpcOptions(const GrpcServerOptions& options) {
  auto endpoint = parse::ListenAddress(options.listen);
  if (!endpoint) return Fail("--grpc-listen: " + endpoint.error());
  const int tls_files =
      !options.tls_cert_file.empty() + !options.tls_key_file.empty() + !options.client_ca_file.empty();
  if (tls_files != 0 && tls_files != 3) {
    return Fail("mutual TLS needs all three of --grpc-tls-cert, --grpc-tls-key and --grpc-client-ca");
  }
  if (tls_files == 0 && !options.insecure && !parse::IsLoopback(*endpoint)) {
    return Fail("--grpc-listen=" + options.listen +
                " is not a loopback address: snapshots carry TLS private keys, so use mutual TLS "
                "(--grpc-tls-cert, --grpc-tls-key, --grpc-client-ca) or accept the risk with --grpc-insecure");
  }
  return endpoint;
}

Result<std::unique_ptr<GrpcServer>> GrpcServer::Start(const GrpcServerOptions& options, SnapshotService& service) {
  auto endpoint = CheckGrpcOptions(options);
  if (!endpoint) return Fail(endpoint.error());
  auto credentials = Credentials(options);
  if (!credentials) return Fail(credentials.error());

  const std::string address = parse::FormatEndpoint(*endpoint);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, *credentials, &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // Find dead dataplanes (half-open TCP) within a minute, and let dataplanes ping us as often as
  // every 10 s without being told "too many pings".
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    if (server) server->Shutdown();
    return Fail("cannot listen for gRPC on " + options.listen + " (address in use or not available?)");
  }
  const boost::asio::ip::tcp::endpoint bound(endpoint->address(), static_cast<unsigned short>(port));
  spdlog::info("gRPC snapshot service listening on {} ({})", parse::FormatEndpoint(bound),
               HasTls(options) ? "mutual TLS" : "plaintext");
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(server), service, port));
}

GrpcServer::GrpcServer(std::unique_ptr<grpc::Server> server, SnapshotService& service, int port)
    : server_(std::move(server)), service_(service), port_(port) {}

GrpcServer::~GrpcServer() { Shutdown(std::chrono::seconds(2)); }

void GrpcServer::Shutdown(std::chrono::milliseconds grace) noexcept {
  if (shut_down_) return;
  shut_down_ = true;
  service_.CloseAll();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
}

}  // namespace pier::server
