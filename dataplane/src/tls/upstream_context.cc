#include "tls/upstream_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "pier/common/pem_check.h"

namespace pier::dataplane::tls {

namespace asio = boost::asio;

namespace {

constexpr uint32_t kMaxVerifyDepth = 100;

// Adds every certificate of the PEM bundle to the context's trust store; at least one.
Result<bool> AddCaBundle(SSL_CTX* ctx, const std::string& pem) {
  return pier::tls::AddCertificates(SSL_CTX_get_cert_store(ctx), pem, nullptr, "CA bundle");
}

// nginx's proxy_ssl_certificate and proxy_ssl_certificate_key: offered when the backend asks.
Result<bool> UseClientCertificate(asio::ssl::context& context, const pier::v1::BackendTls& backend) {
  if (backend.client_certificate_chain_pem().empty() || backend.client_private_key_pem().empty()) {
    return Fail("client certificate: a certificate and a private key are both needed");
  }
  if (auto ok = pier::tls::UseKeyPair(context.native_handle(), backend.client_certificate_chain_pem(),
                                      backend.client_private_key_pem());
      !ok) {
    return Fail("client certificate: " + ok.error());
  }
  return true;
}

}  // namespace

Result<UpstreamTls> MakeUpstreamTls(const pier::v1::BackendTls& backend, const std::string& service_namespace,
                                    const std::string& service_name) {
  UpstreamTls out;
  if (!backend.enabled()) return out;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  // proxy-ssl-protocols: never below TLS 1.2, whatever the snapshot says.
  const int min_version = backend.min_protocol() == TLS1_3_VERSION ? TLS1_3_VERSION : TLS1_2_VERSION;
  const int max_version = backend.max_protocol() == TLS1_2_VERSION ? TLS1_2_VERSION : TLS1_3_VERSION;
  if ((backend.min_protocol() != 0 && backend.min_protocol() != TLS1_2_VERSION && backend.min_protocol() != TLS1_3_VERSION) ||
      (backend.max_protocol() != 0 && backend.max_protocol() != TLS1_2_VERSION && backend.max_protocol() != TLS1_3_VERSION) ||
      min_version > max_version) {
    return Fail("backend TLS versions " + std::to_string(backend.min_protocol()) + ".." +
                std::to_string(backend.max_protocol()) + " are not within TLS 1.2..1.3");
  }
  if (backend.verify_depth() > kMaxVerifyDepth) {
    return Fail("backend TLS verify depth " + std::to_string(backend.verify_depth()) + " is not 0..100");
  }
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  // The client certificate goes in before the cipher list: an "@SECLEVEL=n" there would judge it
  // by another security level than the controller's check (tls::CheckKeyPair) used, and a
  // certificate the controller passed would get the whole snapshot refused. A certificate below
  // the list's level fails that backend's handshakes instead (502), as it does in nginx.
  if (!backend.client_certificate_chain_pem().empty() || !backend.client_private_key_pem().empty()) {
    if (auto ok = UseClientCertificate(*context, backend); !ok) return Fail(ok.error());
  }
  if (!backend.ciphers().empty() && SSL_CTX_set_cipher_list(ctx, backend.ciphers().c_str()) != 1) {
    ERR_clear_error();
    return Fail("backend TLS cipher list selects no cipher");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  out.verify = backend.verify();
  out.send_server_name = !backend.no_server_name();
  out.server_name = !backend.server_name().empty() ? backend.server_name()
                                                   : service_name + "." + service_namespace + ".svc";
  if (out.verify) {
    if (!backend.ca_pem().empty()) {
      if (auto ok = AddCaBundle(ctx, backend.ca_pem()); !ok) return Fail(ok.error());
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Fail("system CA roots cannot be loaded");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_verify_depth(ctx, static_cast<int>(backend.verify_depth()));
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  out.context = std::move(context);
  return out;
}

}  // namespace pier::dataplane::tls
