#include "tls/server_settings.h"

#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <memory>
#include <string>

#include "pier/common/pem_check.h"

namespace pier::dataplane::tls {

namespace asio = boost::asio;

namespace {

// Sessions resumed by ID must come from this same listener policy.
constexpr unsigned char kSessionIdContext[] = "pier";
constexpr long kSessionCacheSize = 20000;
constexpr long kSessionTimeoutSeconds = 300;
constexpr unsigned char kHttp11[] = "http/1.1";

std::string OpenSslError(const char* what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char text[256] = {};
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  return std::string(what) + (code != 0 ? std::string(": ") + text : std::string());
}

// Only HTTP/1.1 is spoken: a client offering it gets it; one offering only h2 gets no ALPN
// answer (and speaks HTTP/1.1 or gives up) rather than a handshake failure.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
               void*) {
  const std::size_t name_size = sizeof(kHttp11) - 1;
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int size = in[i];
    if (i + 1 + size > inlen) break;
    if (size == name_size && std::memcmp(in + i + 1, kHttp11, name_size) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(size);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + size;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

Result<bool> ApplyServerSettings(asio::ssl::context& context) {
  SSL_CTX* ctx = context.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return Fail(OpenSslError("setting TLS versions"));
  }
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return Fail(OpenSslError("setting TLS 1.2 ciphers"));
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return Fail(OpenSslError("setting key exchange groups"));
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_ALL);
  // Idle connections (keep-alive, quiet WebSockets) give their record buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, kSessionCacheSize);
  SSL_CTX_set_timeout(ctx, kSessionTimeoutSeconds);
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  return true;
}

Result<std::shared_ptr<asio::ssl::context>> MakeServerContext(const std::string& chain_pem,
                                                              const std::string& key_pem) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  if (auto ok = ApplyServerSettings(*context); !ok) return Fail(ok.error());
  if (auto ok = pier::tls::UseKeyPair(context->native_handle(), chain_pem, key_pem); !ok) return Fail(ok.error());
  return context;
}

}  // namespace pier::dataplane::tls
