#include "kube/kubeconfig.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <fstream>

#include "kube/tls_context.h"
#include "test_certificates.h"

namespace pier::kube {
namespace {

namespace fs = std::filesystem;

// Not real certificates: kubeconfig parsing only checks that PEM data is PEM.
const std::string kCaPem = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
const std::string kCertPem = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n";
const std::string kKeyPem = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n";

std::string Base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "pier-kube-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const {
    const fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << content;
    return file.string();
  }

 private:
  fs::path path_;
};

// A kubeconfig with one context; `cluster` and `user` are YAML mapping bodies (indented 4).
std::string Kubeconfig(const std::string& cluster, const std::string& user, const std::string& extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
         "contexts:\n- name: other\n  context: {cluster: nowhere, user: nobody}\n"
         "- name: dev\n  context:\n    cluster: c1\n    user: u1\n    namespace: team-a\n"
         "clusters:\n- name: c1\n  cluster:\n" +
         cluster + "users:\n- name: u1\n  user:\n" + user + extra;
}

const std::string kServer = "    server: https://127.0.0.1:6443/\n";

TEST(ParseKubeconfig, DataForm) {
  auto config = ParseKubeconfig(Kubeconfig(kServer + "    certificate-authority-data: " + Base64(kCaPem) + "\n",
                                           "    client-certificate-data: " + Base64(kCertPem) + "\n" +
                                               "    client-key-data: " + Base64(kKeyPem) + "\n"),
                                "", "test");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_EQ(config->namespace_, "team-a");
  EXPECT_EQ(config->token, "");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->origin, "test (context dev)");
}

TEST(ParseKubeconfig, FileFormResolvesRelativePaths) {
  TempDir dir;
  dir.Write("pki/ca.crt", kCaPem);
  dir.Write("pki/admin.crt", kCertPem);
  const std::string key = dir.Write("abs/admin.key", kKeyPem);
  const std::string path = dir.Write(
      "kubeconfig", Kubeconfig(kServer + "    certificate-authority: pki/ca.crt\n",
                               "    client-certificate: pki/admin.crt\n    client-key: " + key + "\n"));
  auto config = LoadKubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
}

TEST(ParseKubeconfig, DataWinsOverFile) {
  auto config = ParseKubeconfig(Kubeconfig(kServer + "    certificate-authority: /does/not/exist\n" +
                                               "    certificate-authority-data: " + Base64(kCaPem) + "\n",
                                           "    token: abc\n"),
                                "", "test");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->ca_pem, kCaPem);
}

TEST(ParseKubeconfig, TokenAndTokenFile) {
  TempDir dir;
  auto inline_token = ParseKubeconfig(Kubeconfig(kServer, "    token: \" s3cret \"\n"), "", "test");
  ASSERT_TRUE(inline_token.ok()) << inline_token.error();
  EXPECT_EQ(inline_token->token, "s3cret");
  EXPECT_EQ(inline_token->token_file, "");

  dir.Write("token", "from-file\n");
  auto from_file =
      ParseKubeconfig(Kubeconfig(kServer, "    token: stale\n    tokenFile: token\n"), dir.path().string(), "test");
  ASSERT_TRUE(from_file.ok()) << from_file.error();
  EXPECT_EQ(from_file->token, "from-file");
  EXPECT_EQ(from_file->token_file, (dir.path() / "token").string());

  auto missing = ParseKubeconfig(Kubeconfig(kServer, "    tokenFile: nope\n"), dir.path().string(), "test");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("tokenFile"), std::string::npos) << missing.error();
}

TEST(ParseKubeconfig, ExplicitContext) {
  auto config = ParseKubeconfig(Kubeconfig(kServer, "    token: t\n"), "", "test", {.context = "other"});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("cluster \"nowhere\""), std::string::npos) << config.error();
}

TEST(ParseKubeconfig, InsecureSkipVerifyIsRefusedUnlessAllowed) {
  const std::string yaml = Kubeconfig(kServer + "    insecure-skip-tls-verify: true\n", "    token: t\n");
  auto refused = ParseKubeconfig(yaml, "", "test");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("insecure-skip-tls-verify"), std::string::npos) << refused.error();

  auto allowed = ParseKubeconfig(yaml, "", "test", {.allow_insecure_skip_tls_verify = true});
  ASSERT_TRUE(allowed.ok()) << allowed.error();
  EXPECT_TRUE(allowed->insecure_skip_tls_verify);

  auto explicit_false =
      ParseKubeconfig(Kubeconfig(kServer + "    insecure-skip-tls-verify: false\n", "    token: t\n"), "", "test");
  ASSERT_TRUE(explicit_false.ok()) << explicit_false.error();
  EXPECT_FALSE(explicit_false->insecure_skip_tls_verify);
}

struct BadCase {
  const char* name;
  std::string yaml;
  const char* expected;  // part of the error message
};

TEST(ParseKubeconfig, ReportsErrorsByField) {
  const std::vector<BadCase> cases = {
      {"not yaml", "a: [b", "not valid YAML"},
      {"scalar document", "hello", "expected a mapping"},
      {"no current context", "apiVersion: v1\nclusters: []\n", "no current-context"},
      {"unknown context", "current-context: x\ncontexts: []\n", "context \"x\" not found"},
      {"unknown cluster",
       "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters: []\n",
       "cluster \"c\""},
      {"unknown user",
       "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
       "clusters:\n- name: c\n  cluster: {server: 'https://h'}\nusers: []\n",
       "user \"u\""},
      {"no server", Kubeconfig("    certificate-authority-data: " + Base64(kCaPem) + "\n", "    token: t\n"),
       "server is missing"},
      {"plain http", Kubeconfig("    server: http://127.0.0.1:8080\n", "    token: t\n"), "must be an https://"},
      {"bad base64", Kubeconfig(kServer + "    certificate-authority-data: '***'\n", "    token: t\n"),
       "certificate-authority-data: invalid base64"},
      {"not pem", Kubeconfig(kServer + "    certificate-authority-data: " + Base64("hello") + "\n", "    token: t\n"),
       "not PEM"},
      {"missing ca file", Kubeconfig(kServer + "    certificate-authority: /nonexistent/ca.crt\n", "    token: t\n"),
       "/nonexistent/ca.crt"},
      {"cert without key", Kubeconfig(kServer, "    client-certificate-data: " + Base64(kCertPem) + "\n"),
       "must be given together"},
      {"exec plugin", Kubeconfig(kServer, "    exec: {command: aws}\n"), "exec is not supported"},
      {"basic auth", Kubeconfig(kServer, "    username: a\n    password: b\n"), "basic authentication"},
      {"bad bool", Kubeconfig(kServer + "    insecure-skip-tls-verify: maybe\n", "    token: t\n"),
       "expected true or false"},
  };
  for (const auto& bad : cases) {
    auto config = ParseKubeconfig(bad.yaml, "", "kubeconfig test");
    ASSERT_FALSE(config.ok()) << bad.name;
    EXPECT_NE(config.error().find(bad.expected), std::string::npos) << bad.name << ": " << config.error();
    EXPECT_EQ(config.error().rfind("kubeconfig test", 0), 0u) << bad.name << ": " << config.error();
  }
}

TEST(LoadKubeconfig, MissingFile) {
  auto config = LoadKubeconfig("/nonexistent/kubeconfig");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("/nonexistent/kubeconfig"), std::string::npos);
}

TEST(InClusterConfig, ReadsTheServiceAccount) {
  TempDir dir;
  dir.Write("ca.crt", kCaPem);
  dir.Write("token", "sa-token\n");
  dir.Write("namespace", "pier-system");
  auto config = InClusterConfig("10.96.0.1", "443", dir.path().string());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->token, "sa-token");
  EXPECT_EQ(config->token_file, (dir.path() / "token").string());
  EXPECT_EQ(config->namespace_, "pier-system");

  auto v6 = InClusterConfig("fd00::1", "443", dir.path().string());
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->server, "https://[fd00::1]:443");
}

TEST(InClusterConfig, Errors) {
  TempDir dir;
  EXPECT_NE(InClusterConfig("", "", dir.path().string()).error().find("KUBERNETES_SERVICE_HOST"), std::string::npos);
  EXPECT_NE(InClusterConfig("10.0.0.1", "443", dir.path().string()).error().find("ca.crt"), std::string::npos);
  dir.Write("ca.crt", kCaPem);
  EXPECT_NE(InClusterConfig("10.0.0.1", "443", dir.path().string()).error().find("token"), std::string::npos);
  dir.Write("token", "\n");
  EXPECT_NE(InClusterConfig("10.0.0.1", "443", dir.path().string()).error().find("empty"), std::string::npos);
}

using KeyPair = fake::Certificate;

KeyPair SelfSigned(const char* common_name) { return fake::MakeSelfSigned(common_name); }

TEST(ConfigureTlsContext, AcceptsMatchingMaterial) {
  const KeyPair ca = SelfSigned("ca");
  const KeyPair client = SelfSigned("client");
  KubeConfig config;
  config.ca_pem = ca.cert_pem;
  config.client_cert_pem = client.cert_pem;
  config.client_key_pem = client.key_pem;
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  auto configured = ConfigureTlsContext(context, config);
  EXPECT_TRUE(configured.ok()) << configured.error();
}

TEST(ConfigureTlsContext, RejectsMismatchedKeyAndBadCa) {
  const KeyPair one = SelfSigned("one");
  const KeyPair two = SelfSigned("two");
  KubeConfig mismatched;
  mismatched.ca_pem = one.cert_pem;
  mismatched.client_cert_pem = one.cert_pem;
  mismatched.client_key_pem = two.key_pem;
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  auto result = ConfigureTlsContext(context, mismatched);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("client key"), std::string::npos) << result.error();

  KubeConfig bad_ca;
  bad_ca.ca_pem = kCaPem;  // PEM armour around garbage
  boost::asio::ssl::context other(boost::asio::ssl::context::tls_client);
  result = ConfigureTlsContext(other, bad_ca);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("CA certificate"), std::string::npos) << result.error();
}

}  // namespace
}  // namespace pier::kube
