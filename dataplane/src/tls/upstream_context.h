// The client side of backend-protocol HTTPS: one OpenSSL client context per cluster, built
// with the snapshot. Verification (when the cluster asks for it) uses the cluster's CA bundle
// or the system roots, and checks the backend's name (server_name, or the Service's DNS name).
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "pier/common/result.h"
#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::tls {

struct UpstreamTls {
  std::shared_ptr<boost::asio::ssl::context> context;
  bool verify = false;
  // SNI sent to the backend and, with verify, the name its certificate must carry.
  std::string server_name;
  // proxy-ssl-server-name: whether server_name goes out as SNI (a DNS name only, never an IP).
  bool send_server_name = true;
};

// Null context when backend TLS is off. service_namespace/service_name give the default name
// "NAME.NAMESPACE.svc".
Result<UpstreamTls> MakeUpstreamTls(const pier::v1::BackendTls& backend, const std::string& service_namespace,
                                    const std::string& service_name);

}  // namespace pier::dataplane::tls
