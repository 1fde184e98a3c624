#include "tls/upstream_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace pier::dataplane::tls {

namespace asio = boost::asio;

namespace {

constexpr uint32_t kMaxVerifyDepth = 100;

// Adds every certificate of the PEM bundle to the context's trust store; at least one.
Result<bool> AddCaBundle(SSL_CTX* ctx, const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (!bio || store == nullptr) return Fail("CA bundle: out of memory");
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    const int ok = X509_STORE_add_cert(store, cert);
    X509_free(cert);
    if (ok != 1) return Fail("CA bundle: certificate " + std::to_string(added + 1) + " cannot be added");
    ++added;
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (added == 0) return Fail("CA bundle holds no PEM certificate");
  return true;
}

// nginx's proxy_ssl_certificate and proxy_ssl_certificate_key: offered when the backend asks.
Result<bool> UseClientCertificate(asio::ssl::context& context, const pier::v1::BackendTls& backend) {
  if (backend.client_certificate_chain_pem().empty() || backend.client_private_key_pem().empty()) {
    return Fail("client certificate: a certificate and a private key are both needed");
  }
  boost::system::error_code ec;
  context.use_certificate_chain(asio::buffer(backend.client_certificate_chain_pem()), ec);
  if (ec) return Fail("client certificate: " + ec.message());
  context.use_private_key(asio::buffer(backend.client_private_key_pem()), asio::ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(context.native_handle()) != 1) {
    ERR_clear_error();
    return Fail("client certificate: the private key is unusable or does not match the certificate");
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
  if (!backend.client_certificate_chain_pem().empty() || !backend.client_private_key_pem().empty()) {
    if (auto ok = UseClientCertificate(*context, backend); !ok) return Fail(ok.error());
  }
  out.context = std::move(context);
  return out;
}

}  // namespace pier::dataplane::tls
