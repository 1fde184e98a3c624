#include "tls/client_auth.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <cstdint>
#include <ctime>
#include <optional>

#include "pier/common/parse.h"
#include "pier/common/pem_check.h"
#include "pier/common/percent.h"

namespace pier::dataplane::tls {

namespace {

constexpr uint32_t kMaxVerifyDepth = 100;

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

// nginx's verify callback does the same: the handshake completes whatever the chain, and the
// outcome (SSL_get_verify_result) is judged per request, where a refusal can be a proper 400
// or the error page rather than a failed handshake the client cannot explain.
int AcceptAnyChain(int, X509_STORE_CTX*) { return 1; }

std::optional<ClientAuthPolicy::Identity> IdentityOf(const pier::v1::ClientAuth& settings) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) return std::nullopt;
  const uint64_t size = settings.ca_pem().size();
  const uint32_t mode = static_cast<uint32_t>(settings.verify());
  const uint32_t depth = settings.verify_depth();
  if (EVP_DigestUpdate(context.get(), &size, sizeof size) != 1 ||
      EVP_DigestUpdate(context.get(), settings.ca_pem().data(), settings.ca_pem().size()) != 1 ||
      EVP_DigestUpdate(context.get(), &mode, sizeof mode) != 1 ||
      EVP_DigestUpdate(context.get(), &depth, sizeof depth) != 1) {
    return std::nullopt;
  }
  // A connection verified before a CRL changed must not be taken as verified under the new one
  // (nor a session resumed across it).
  if (!settings.crl_pem().empty()) {
    const uint64_t crl_size = settings.crl_pem().size();
    if (EVP_DigestUpdate(context.get(), &crl_size, sizeof crl_size) != 1 ||
        EVP_DigestUpdate(context.get(), settings.crl_pem().data(), settings.crl_pem().size()) != 1) {
      return std::nullopt;
    }
  }
  ClientAuthPolicy::Identity identity{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context.get(), identity.data(), &length) != 1 || length != identity.size()) {
    return std::nullopt;
  }
  return identity;
}

// nginx's ssl_crl: the CRLs go into the verification store, and every certificate of the chain
// (not only the client's own) must have a current CRL from its issuer that does not list it.

Result<bool> AddCrls(X509_STORE* store, std::string_view pem, std::optional<int64_t>& next_update) {
  if (auto added = pier::tls::AddCrls(store, pem, &next_update, "the client certificate CRLs"); !added) {
    return Fail("client certificate: " + added.error());
  }
  if (X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) != 1) {
    ERR_clear_error();
    return Fail("client certificate CRLs: cannot turn revocation checks on (OpenSSL)");
  }
  return true;
}

std::string NameText(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || name == nullptr) return {};
  // RFC 2253 with its escapes: control bytes and bytes with the high bit set come out as \XX,
  // so the text is visible ASCII and can go into a header field as it is.
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  std::string text(data, static_cast<std::size_t>(size > 0 ? size : 0));
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return {};
  }
  return text;
}

std::string LeafPem(X509* certificate) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size > 0 ? size : 0));
}

}  // namespace

Result<std::shared_ptr<const ClientAuthPolicy>> ClientAuthPolicy::Build(const pier::v1::ClientAuth& settings) {
  if (!pier::v1::ClientAuth::Verify_IsValid(settings.verify())) {
    return Fail("unknown client certificate mode " + std::to_string(settings.verify()));
  }
  if (settings.verify_depth() > kMaxVerifyDepth) {
    return Fail("client certificate verify depth " + std::to_string(settings.verify_depth()) + " is not 0.." +
                std::to_string(kMaxVerifyDepth));
  }
  if (!settings.error_page().empty() && !parse::IsLocationText(settings.error_page())) {
    return Fail("client certificate error page is not URL text");
  }
  std::optional<match::PathRegex> match_cn;
  if (!settings.match_cn().empty()) {
    auto compiled = match::PathRegex::Compile(settings.match_cn(), false);
    if (!compiled) return Fail("client certificate subject pattern: " + compiled.error());
    match_cn.emplace(std::move(*compiled));
  }
  auto identity = IdentityOf(settings);
  if (!identity) return Fail("client certificate CA: cannot hash it (OpenSSL)");

  std::shared_ptr<ClientAuthPolicy> policy(new ClientAuthPolicy());
  policy->verify_ = settings.verify();
  policy->depth_ = static_cast<int>(settings.verify_depth());
  policy->error_page_ = settings.error_page();
  policy->pass_certificate_ = settings.pass_certificate();
  policy->secret_ = settings.secret();
  policy->match_cn_ = std::move(match_cn);
  policy->identity_ = *identity;
  policy->store_ = X509_STORE_new();
  policy->names_ = sk_X509_NAME_new_null();
  if (policy->store_ == nullptr || policy->names_ == nullptr) return Fail("client certificate CA: out of memory");

  if (auto added = pier::tls::AddCertificates(policy->store_, settings.ca_pem(), policy->names_,
                                              "the client certificate CA bundle");
      !added) {
    return Fail("client certificate CA: " + added.error());
  }
  if (!settings.crl_pem().empty()) {
    if (auto crls = AddCrls(policy->store_, settings.crl_pem(), policy->crl_next_update_); !crls) {
      return Fail(crls.error());
    }
  }
  return std::shared_ptr<const ClientAuthPolicy>(std::move(policy));
}

ClientAuthPolicy::~ClientAuthPolicy() {
  if (names_ != nullptr) sk_X509_NAME_pop_free(names_, X509_NAME_free);
  if (store_ != nullptr) X509_STORE_free(store_);
}

bool ClientAuthPolicy::SetSessionContext(SSL* ssl) const noexcept {
  static_assert(sizeof(Identity) <= SSL_MAX_SID_CTX_LENGTH);
  return SSL_set_session_id_context(ssl, identity_.data(), static_cast<unsigned int>(identity_.size())) == 1;
}

bool ClientAuthPolicy::RequestCertificate(SSL* ssl) const noexcept {
  SSL_set_verify(ssl, SSL_VERIFY_PEER, &AcceptAnyChain);
  SSL_set_verify_depth(ssl, depth_);
  if (SSL_set1_verify_cert_store(ssl, store_) != 1) return false;
  if (verify_ == pier::v1::ClientAuth::OPTIONAL_NO_CA) return true;  // no CA to name
  STACK_OF(X509_NAME)* names = SSL_dup_CA_list(names_);
  if (names == nullptr) return false;
  SSL_set_client_CA_list(ssl, names);  // takes ownership
  return true;
}

PeerCertificate InspectPeerCertificate(SSL* ssl) {
  PeerCertificate out;
  X509* certificate = ssl != nullptr ? SSL_get0_peer_certificate(ssl) : nullptr;
  if (certificate == nullptr) {
    out.verify = "NONE";
    return out;
  }
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) {
    out.state = PeerCertificate::State::kVerified;
    out.verify = "SUCCESS";
  } else {
    out.state = PeerCertificate::State::kFailed;
    out.verify = std::string("FAILED:") + X509_verify_cert_error_string(result);
    out.unknown_ca = result == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || result == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                     result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || result == X509_V_ERR_CERT_UNTRUSTED ||
                     result == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
  }
  out.subject_dn = NameText(X509_get_subject_name(certificate));
  out.issuer_dn = NameText(X509_get_issuer_name(certificate));
  out.escaped_pem = PercentEncode(LeafPem(certificate));
  return out;
}

}  // namespace pier::dataplane::tls
