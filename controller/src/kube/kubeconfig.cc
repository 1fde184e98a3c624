#include "kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pier/common/base64.h"

namespace pier::kube {
namespace {

// A projected service-account token is ~1 KiB; anything this large is not a credential file.
constexpr std::uintmax_t kMaxCredentialFileBytes = 4 * 1024 * 1024;

std::string Trim(std::string_view text) {
  const char* kSpace = " \t\r\n";
  auto begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "";
  auto end = text.find_last_not_of(kSpace);
  return std::string(text.substr(begin, end - begin + 1));
}

// The entry of a kubeconfig list (clusters, users, contexts) with this name, or a null node.
YAML::Node FindNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : list) {
    if (entry.IsMap() && entry["name"] && entry["name"].IsScalar() && entry["name"].as<std::string>() == name) {
      return entry;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string ScalarOr(const YAML::Node& map, const char* key, std::string fallback = "") {
  if (!map || !map.IsMap()) return fallback;
  const YAML::Node value = map[key];
  if (!value || value.IsNull() || !value.IsScalar()) return fallback;
  return value.as<std::string>();
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  std::filesystem::path file(path);
  if (file.is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / file).string();
}

bool LooksLikePem(const std::string& text) { return text.find("-----BEGIN ") != std::string::npos; }

// One credential that may be inline (<field>-data, base64) or in a file (<field>); the inline
// form wins, as in kubectl.
Result<std::string> PemField(const YAML::Node& map, const std::string& field, const std::string& base_dir,
                             const std::string& where) {
  const std::string data = ScalarOr(map, (field + "-data").c_str());
  std::string pem;
  if (!data.empty()) {
    auto decoded = Base64Decode(data, Base64Padding::kOptional);
    if (!decoded) return Fail(where + "." + field + "-data: " + decoded.error());
    pem = std::move(*decoded);
  } else {
    const std::string path = ScalarOr(map, field.c_str());
    if (path.empty()) return std::string();
    auto read = ReadFile(Resolve(base_dir, path));
    if (!read) return Fail(where + "." + field + ": " + read.error());
    pem = std::move(*read);
  }
  if (!LooksLikePem(pem)) return Fail(where + "." + field + ": not PEM data (no -----BEGIN line)");
  return pem;
}

Result<bool> ParseBool(const YAML::Node& map, const char* key, const std::string& where) {
  if (!map || !map.IsMap() || !map[key] || map[key].IsNull()) return false;
  bool value = false;
  if (!map[key].IsScalar() || !YAML::convert<bool>::decode(map[key], value)) {
    return Fail(where + "." + key + ": expected true or false");
  }
  return value;
}

Result<std::string> CheckServer(std::string server, const std::string& where) {
  if (server.empty()) return Fail(where + ".server is missing");
  if (server.rfind("https://", 0) != 0) {
    return Fail(where + ".server \"" + server + "\" must be an https:// URL (the API carries Secrets)");
  }
  while (server.size() > std::string_view("https://").size() && server.back() == '/') server.pop_back();
  if (server.size() == std::string_view("https://").size()) return Fail(where + ".server has no host");
  return server;
}

Result<bool> ReadUser(const YAML::Node& user, const std::string& base_dir, const std::string& where,
                      KubeConfig& config) {
  for (const char* unsupported : {"exec", "auth-provider"}) {
    if (user[unsupported]) {
      return Fail(where + "." + unsupported +
                  " is not supported; use a client certificate, a token or a tokenFile "
                  "(e.g. a ServiceAccount token kubeconfig)");
    }
  }
  if (!ScalarOr(user, "username").empty() || !ScalarOr(user, "password").empty()) {
    return Fail(where + ": basic authentication (username/password) is not supported by Kubernetes any more");
  }
  auto cert = PemField(user, "client-certificate", base_dir, where);
  if (!cert) return Fail(cert.error());
  auto key = PemField(user, "client-key", base_dir, where);
  if (!key) return Fail(key.error());
  if (cert->empty() != key->empty()) {
    return Fail(where + ": client-certificate and client-key must be given together");
  }
  config.client_cert_pem = std::move(*cert);
  config.client_key_pem = std::move(*key);

  config.token = Trim(ScalarOr(user, "token"));
  const std::string token_file = ScalarOr(user, "tokenFile");
  if (!token_file.empty()) {
    config.token_file = Resolve(base_dir, token_file);
    auto token = ReadFile(config.token_file);
    if (!token) return Fail(where + ".tokenFile: " + token.error());
    // The file wins over an inline token, as in client-go: it is the one that gets rotated.
    config.token = Trim(*token);
    if (config.token.empty()) return Fail(where + ".tokenFile: " + config.token_file + " is empty");
  }
  return true;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Fail(path + ": " + ec.message());
  if (size > kMaxCredentialFileBytes) return Fail(path + ": file too large (" + std::to_string(size) + " bytes)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(path + ": cannot open for reading");
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return Fail(path + ": read error");
  return content.str();
}

Result<KubeConfig> ParseKubeconfig(std::string_view yaml, const std::string& base_dir, const std::string& origin,
                                   const LoadOptions& options) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& error) {
    return Fail(origin + ": not valid YAML: " + error.what());
  }
  if (!root.IsMap()) return Fail(origin + ": not a kubeconfig (expected a mapping at the top)");

  try {
    std::string context_name = options.context.empty() ? ScalarOr(root, "current-context") : options.context;
    if (context_name.empty()) return Fail(origin + ": no current-context is set");
    const YAML::Node context_entry = FindNamed(root["contexts"], context_name);
    if (!context_entry || !context_entry["context"].IsMap()) {
      return Fail(origin + ": context \"" + context_name + "\" not found in contexts");
    }
    const YAML::Node context = context_entry["context"];

    KubeConfig config;
    config.origin = origin + " (context " + context_name + ")";
    config.namespace_ = ScalarOr(context, "namespace");

    const std::string cluster_name = ScalarOr(context, "cluster");
    const YAML::Node cluster_entry = FindNamed(root["clusters"], cluster_name);
    if (cluster_name.empty() || !cluster_entry || !cluster_entry["cluster"].IsMap()) {
      return Fail(origin + ": cluster \"" + cluster_name + "\" of context \"" + context_name + "\" not found");
    }
    const YAML::Node cluster = cluster_entry["cluster"];
    const std::string cluster_where = origin + ": clusters[" + cluster_name + "]";
    auto server = CheckServer(ScalarOr(cluster, "server"), cluster_where);
    if (!server) return Fail(server.error());
    config.server = std::move(*server);
    auto ca = PemField(cluster, "certificate-authority", base_dir, cluster_where);
    if (!ca) return Fail(ca.error());
    config.ca_pem = std::move(*ca);
    auto insecure = ParseBool(cluster, "insecure-skip-tls-verify", cluster_where);
    if (!insecure) return Fail(insecure.error());
    if (*insecure) {
      if (!options.allow_insecure_skip_tls_verify) {
        return Fail(cluster_where +
                    " sets insecure-skip-tls-verify; refusing to talk to an unverified API server "
                    "(give the cluster's certificate-authority instead)");
      }
      config.insecure_skip_tls_verify = true;
    }

    const std::string user_name = ScalarOr(context, "user");
    if (!user_name.empty()) {
      const YAML::Node user_entry = FindNamed(root["users"], user_name);
      if (!user_entry) {
        return Fail(origin + ": user \"" + user_name + "\" of context \"" + context_name + "\" not found");
      }
      const YAML::Node user = user_entry["user"];
      if (user && user.IsMap()) {
        auto read = ReadUser(user, base_dir, origin + ": users[" + user_name + "]", config);
        if (!read) return Fail(read.error());
      }
    }
    return config;
  } catch (const YAML::Exception& error) {
    // A scalar where a map was expected and similar shape errors.
    return Fail(origin + ": unexpected kubeconfig structure: " + error.what());
  }
}

Result<KubeConfig> LoadKubeconfig(const std::string& path, const LoadOptions& options) {
  auto text = ReadFile(path);
  if (!text) return Fail("kubeconfig " + text.error());
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  return ParseKubeconfig(*text, base_dir, "kubeconfig " + path, options);
}

Result<KubeConfig> InClusterConfig(std::string_view service_host, std::string_view service_port,
                                   const std::string& service_account_dir) {
  if (service_host.empty() || service_port.empty()) {
    return Fail(
        "not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set "
        "(use --kubeconfig outside a cluster)");
  }
  KubeConfig config;
  config.origin = "in-cluster";
  const std::string host(service_host);
  // An IPv6 service address needs brackets in a URL.
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::string(service_port);

  auto ca = ReadFile(service_account_dir + "/ca.crt");
  if (!ca) return Fail("in-cluster CA: " + ca.error());
  if (!LooksLikePem(*ca)) return Fail("in-cluster CA: " + service_account_dir + "/ca.crt is not PEM");
  config.ca_pem = std::move(*ca);

  config.token_file = service_account_dir + "/token";
  auto token = ReadFile(config.token_file);
  if (!token) return Fail("in-cluster token: " + token.error());
  config.token = Trim(*token);
  if (config.token.empty()) return Fail("in-cluster token: " + config.token_file + " is empty");

  // Optional: without it the controller watches all namespaces unless told otherwise.
  auto ns = ReadFile(service_account_dir + "/namespace");
  if (ns) config.namespace_ = Trim(*ns);
  return config;
}

Result<KubeConfig> InClusterConfigFromEnvironment() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  return InClusterConfig(host ? host : "", port ? port : "");
}

}  // namespace pier::kube
