// The gRPC listener for SnapshotService. Snapshots carry TLS private keys, so a listener that can
// be reached from other machines needs mutual TLS, or an explicit --grpc-insecure.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "pier/common/result.h"
#include "server/snapshot_service.h"

namespace pier::server {

struct GrpcServerOptions {
  std::string listen = "127.0.0.1:18000";
  // PEM files; all three or none. With them the server requires and verifies client certificates.
  std::string tls_cert_file{};
  std::string tls_key_file{};
  std::string client_ca_file{};
  // Allows plaintext on a non-loopback address.
  bool insecure = false;
};

// The listen address, or why these options must not be used (the caller exits with status 2).
Result<boost::asio::ip::tcp::endpoint> CheckGrpcOptions(const GrpcServerOptions& options);

class GrpcServer final {
 public:
  // 10,000 Ingresses and 50,000 endpoints fit well within this.
  static constexpr int kMaxMessageBytes = 256 * 1024 * 1024;

  static Result<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options, SnapshotService& service);
  ~GrpcServer();

  int port() const noexcept { return port_; }

  // Closes every stream, stops accepting, and waits at most `grace` for calls to end. Idempotent.
  void Shutdown(std::chrono::milliseconds grace) noexcept;

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, SnapshotService& service, int port);

  std::unique_ptr<grpc::Server> server_;
  SnapshotService& service_;
  int port_;
  bool shut_down_ = false;
};

}  // namespace pier::server
