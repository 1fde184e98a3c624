// The gRPC channel to the controller: plaintext, or mutual TLS with files named by flags.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>

#include "pier/common/result.h"

namespace pier::dataplane {

struct ChannelTls {
  std::string cert_file;  // client certificate chain (PEM)
  std::string key_file;   // its private key (PEM)
  std::string ca_file;    // CAs that sign the controller's certificate (PEM)

  bool enabled() const { return !cert_file.empty() || !key_file.empty() || !ca_file.empty(); }
};

// Reads the files once, at start-up, so a missing file is a start-up error rather than a
// failure on every reconnect. A CA alone gives server-verified TLS without a client
// certificate; a certificate and key need the CA too (there is no sane system root for an
// in-cluster controller).
Result<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const ChannelTls& tls);

// A fresh channel per attempt, with its own subchannels: gRPC's internal reconnect backoff then
// cannot keep the next attempt waiting longer than ours.
std::shared_ptr<grpc::Channel> MakeControllerChannel(const std::string& target,
                                                     const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                                                     std::chrono::milliseconds reconnect_backoff);

}  // namespace pier::dataplane
