#include "kube/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace pier::kube {
namespace {

std::string Describe(const boost::system::error_code& ec) {
  std::string text = ec.message();
  // Boost reports OpenSSL errors by code; the queue holds the readable reason.
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    text += std::string("; ") + buffer;
  }
  return text;
}

}  // namespace

Result<bool> ConfigureTlsContext(boost::asio::ssl::context& context, const KubeConfig& config) {
  namespace ssl = boost::asio::ssl;
  boost::system::error_code ec;
  SSL_CTX* native = context.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Fail("TLS: cannot require TLS 1.2");
  }
  context.set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);

  // The HTTP client may already have loaded the system roots into this context; a fresh store
  // makes the cluster CA the only trust anchor.
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return Fail("TLS: out of memory");
  SSL_CTX_set_cert_store(native, store);  // takes ownership
  if (config.ca_pem.empty()) {
    context.set_default_verify_paths(ec);
    if (ec) return Fail("TLS: cannot load the system CA certificates: " + Describe(ec));
  } else {
    context.add_certificate_authority(boost::asio::buffer(config.ca_pem), ec);
    if (ec) return Fail("TLS: cannot use the cluster CA certificate: " + Describe(ec));
  }

  if (!config.client_cert_pem.empty()) {
    context.use_certificate_chain(boost::asio::buffer(config.client_cert_pem), ec);
    if (ec) return Fail("TLS: cannot use the client certificate: " + Describe(ec));
    context.use_private_key(boost::asio::buffer(config.client_key_pem), ssl::context::pem, ec);
    if (ec) return Fail("TLS: cannot use the client key (it must be the key of the client certificate): " + Describe(ec));
    if (SSL_CTX_check_private_key(native) != 1) {
      ERR_clear_error();
      return Fail("TLS: the client key does not match the client certificate");
    }
  }
  return true;
}

}  // namespace pier::kube
