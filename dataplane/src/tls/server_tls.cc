#include "tls/server_tls.h"

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <openssl/err.h>
#include <spdlog/spdlog.h>

#include "tls/default_certificate.h"

namespace pier::dataplane::tls {

namespace {

int InfoIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool IsProtocolVersionError(int reason) {
  return reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_WRONG_VERSION_NUMBER ||
         reason == SSL_R_VERSION_TOO_LOW || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
         reason == SSL_R_UNKNOWN_PROTOCOL;
}

}  // namespace

Result<std::unique_ptr<ServerTls>> ServerTls::Create(const ConfigStore& store) {
  auto self_signed = MakeDefaultServerCertificate();
  if (!self_signed) return Fail(self_signed.error());
  std::unique_ptr<ServerTls> server(new ServerTls(store, std::move(*self_signed)));
  SSL_CTX_set_tlsext_servername_callback(server->base_->native_handle(), &ServerTls::OnServerName);
  SSL_CTX_set_tlsext_servername_arg(server->base_->native_handle(), server.get());
  SSL_CTX_set_client_hello_cb(server->base_->native_handle(), &ServerTls::OnClientHello, server.get());
  return server;
}

ServerTls::ServerTls(const ConfigStore& store, std::shared_ptr<const ServerCertificate> self_signed)
    : store_(store), self_signed_(std::move(self_signed)), base_(self_signed_->context) {}

void ServerTls::Attach(SSL* ssl, HandshakeInfo* info) noexcept { SSL_set_ex_data(ssl, InfoIndex(), info); }

std::shared_ptr<const ServerCertificate> ServerTls::Choose(std::string_view server_name, bool& by_default) const {
  auto config = store_.Current();
  if (config) {
    if (auto chosen = config->certificates().Select(server_name)) {
      by_default = false;
      return chosen;
    }
  }
  by_default = true;
  if (config && config->certificates().default_certificate()) return config->certificates().default_certificate();
  return self_signed_;
}

// OpenSSL calls this for every ClientHello, with or without SNI, on the connection's thread.
int ServerTls::OnServerName(SSL* ssl, int*, void* arg) {
  const auto* server = static_cast<const ServerTls*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  bool by_default = true;
  auto chosen = server->Choose(name != nullptr ? std::string_view(name) : std::string_view(), by_default);
  if (SSL_set_SSL_CTX(ssl, chosen->context->native_handle()) == nullptr) return SSL_TLSEXT_ERR_ALERT_FATAL;
  if (auto* info = static_cast<HandshakeInfo*>(SSL_get_ex_data(ssl, InfoIndex()))) {
    info->presented = std::move(chosen);
    info->by_default = by_default;
    // SSL_set_SSL_CTX replaced the verify store: the client certificate is asked for now.
    if (info->client_auth && !info->client_auth->RequestCertificate(ssl)) return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

namespace {

// The host_name of a ClientHello's server_name extension (RFC 6066 3); empty when there is
// none or the extension is malformed (OpenSSL then refuses the ClientHello itself).
std::string_view SniHostName(SSL* ssl) {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &size) != 1 || size < 2) return {};
  const std::size_t list = (std::size_t{data[0]} << 8) | data[1];
  if (list != size - 2) return {};
  std::size_t at = 2;
  while (at + 3 <= size) {
    const unsigned type = data[at];
    const std::size_t length = (std::size_t{data[at + 1]} << 8) | data[at + 2];
    at += 3;
    if (length > size - at) return {};
    if (type == TLSEXT_NAMETYPE_host_name) return {reinterpret_cast<const char*>(data + at), length};
    at += length;
  }
  return {};
}

}  // namespace

int ServerTls::OnClientHello(SSL* ssl, int*, void* arg) {
  const auto* server = static_cast<const ServerTls*>(arg);
  auto* info = static_cast<HandshakeInfo*>(SSL_get_ex_data(ssl, InfoIndex()));
  if (info == nullptr) return SSL_CLIENT_HELLO_SUCCESS;
  info->client_auth.reset();
  info->cipher_context.reset();
  auto config = server->store_.Current();
  if (!config) return SSL_CLIENT_HELLO_SUCCESS;
  // The virtual host a request with this name as its Host would use (no SNI: the catch-all).
  const VirtualHostConfig* host = config->FindHost(SniHostName(ssl));
  if (host == nullptr) return SSL_CLIENT_HELLO_SUCCESS;
  if (!host->ciphers.empty()) {
    // ssl-ciphers: OpenSSL picks the cipher after this callback (and after the SNI callback,
    // which switches the context but leaves a list set on the connection alone). The session ID
    // context covers the list and the client-certificate policy: a session made under another
    // host's list is not resumed here.
    if (SSL_set_cipher_list(ssl, host->ciphers.c_str()) != 1 ||
        SSL_set_session_id_context(ssl, host->session_context.data(),
                                   static_cast<unsigned int>(host->session_context.size())) != 1) {
      ERR_clear_error();
      return SSL_CLIENT_HELLO_ERROR;
    }
    info->cipher_context = host->session_context;
  }
  // Left in place by the SNI callback's context switch, as the list is.
  if (host->prefer_server_ciphers) SSL_set_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!host->client_auth) return SSL_CLIENT_HELLO_SUCCESS;
  // A session made under another policy (or none) is then not resumed: its verification, or
  // the lack of one, does not hold here.
  if (host->ciphers.empty() && !host->client_auth->SetSessionContext(ssl)) return SSL_CLIENT_HELLO_ERROR;
  info->client_auth = host->client_auth;
  return SSL_CLIENT_HELLO_SUCCESS;
}

HandshakeResult ServerTls::Count(const boost::system::error_code& ec, const HandshakeInfo& info) noexcept {
  HandshakeResult result = HandshakeResult::kError;
  if (!ec) {
    result = info.by_default ? HandshakeResult::kUnknownSniDefault : HandshakeResult::kOk;
  } else if (ec == boost::beast::error::timeout) {
    result = HandshakeResult::kTimeout;
  } else if (ec.category() == boost::asio::error::get_ssl_category()) {
    const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (IsProtocolVersionError(reason)) {
      result = HandshakeResult::kProtocolVersion;
    } else if (reason == SSL_R_NO_SHARED_CIPHER) {
      result = HandshakeResult::kNoSharedCipher;
    }
  }
  TlsMetrics::Get().Count(result);
  return result;
}

bool ServerTls::MayServe(const HandshakeInfo& info, std::string_view host) const {
  if (!info.presented) return false;
  if (info.presented->Covers(host)) return true;
  bool by_default = true;
  return Choose(host, by_default)->name == info.presented->name;
}

}  // namespace pier::dataplane::tls
