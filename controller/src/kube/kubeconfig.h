// Where the API server is and how to authenticate to it: from a kubeconfig file (--kubeconfig)
// or from the service account a pod runs as (in-cluster). Everything is read and checked here,
// once, so a bad config fails at start-up with a message naming the field.
#pragma once

#include <string>
#include <string_view>

#include "pier/common/result.h"

namespace pier::kube {

struct KubeConfig {
  std::string server;  // "https://host:port", no trailing slash
  // PEM. Empty ca_pem means the system trust store (a kubeconfig without a CA, as for a
  // cluster with a publicly trusted certificate); the server certificate is verified either way.
  std::string ca_pem;
  std::string client_cert_pem;  // with client_key_pem: client-certificate authentication
  std::string client_key_pem;
  std::string token;       // bearer token, as read at load time
  std::string token_file;  // when set, the token is re-read from here (rotated tokens)
  std::string namespace_;  // the context's namespace (in-cluster: the pod's); "" if none
  // Only when the kubeconfig asks for it AND the caller allowed it (LoadOptions).
  bool insecure_skip_tls_verify = false;
  std::string origin;  // "kubeconfig PATH (context NAME)" or "in-cluster", for log lines
};

struct LoadOptions {
  std::string context{};  // "" = current-context
  // insecure-skip-tls-verify in a kubeconfig is refused unless this is set: an ingress
  // controller reads TLS private keys, so it must not talk to an unverified server by accident.
  bool allow_insecure_skip_tls_verify = false;
};

// Reads a kubeconfig file; relative file references resolve against its directory.
Result<KubeConfig> LoadKubeconfig(const std::string& path, const LoadOptions& options = {});

// Parses kubeconfig YAML text. `base_dir` resolves relative file references; `origin` names
// the source in error messages.
Result<KubeConfig> ParseKubeconfig(std::string_view yaml, const std::string& base_dir, const std::string& origin,
                                   const LoadOptions& options = {});

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// The in-cluster config from KUBERNETES_SERVICE_HOST/PORT and the service account directory
// (token, ca.crt, namespace). The token is marked for periodic re-reading (projected tokens
// rotate).
Result<KubeConfig> InClusterConfig(std::string_view service_host, std::string_view service_port,
                                   const std::string& service_account_dir = kServiceAccountDir);

// InClusterConfig from the process environment.
Result<KubeConfig> InClusterConfigFromEnvironment();

// Reads a whole file (certificates, keys, tokens); the error names the path.
Result<std::string> ReadFile(const std::string& path);

}  // namespace pier::kube
