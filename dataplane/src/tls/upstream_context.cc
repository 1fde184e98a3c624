#include "tls/upstream_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace pier::dataplane::tls {

namespace asio = boost::asio;

namespace {

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

}  // namespace

Result<UpstreamTls> MakeUpstreamTls(const pier::v1::BackendTls& backend, const std::string& service_namespace,
                                    const std::string& service_name) {
  UpstreamTls out;
  if (!backend.enabled()) return out;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  out.verify = backend.verify();
  out.server_name = !backend.server_name().empty() ? backend.server_name()
                                                   : service_name + "." + service_namespace + ".svc";
  if (out.verify) {
    if (!backend.ca_pem().empty()) {
      if (auto ok = AddCaBundle(ctx, backend.ca_pem()); !ok) return Fail(ok.error());
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Fail("system CA roots cannot be loaded");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  out.context = std::move(context);
  return out;
}

}  // namespace pier::dataplane::tls
