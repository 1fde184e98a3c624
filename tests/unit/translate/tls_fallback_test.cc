// What hosts are served with when their Secret is missing or broken: the Secret's last good
// certificate (CertificateHistory), else --default-tls-secret, else the dataplane's own.
#include <gtest/gtest.h>

#include <chrono>

#include "builders.h"
#include "translate/snapshot_translator.h"
#include "translate/tls_secret.h"

namespace pier::translate {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

model::Secret SecondSecret(std::string name, std::string ns = "default") {
  model::Secret secret = TlsSecret(std::move(name), std::move(ns));
  secret.data["tls.crt"] = testdata::kSecondCertificatePem;
  secret.data["tls.key"] = testdata::kSecondPrivateKeyPem;
  return secret;
}

model::Secret Broken(model::Secret secret, const std::string& how) {
  if (how == "garbage") secret.data["tls.crt"] = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  if (how == "mismatch") secret.data["tls.key"] = testdata::kOtherPrivateKeyPem;
  return secret;
}

const pier::v1::TlsCertificate* FindCertificate(const pier::v1::Snapshot& snapshot, const std::string& name) {
  for (const auto& certificate : snapshot.certificates()) {
    if (certificate.name() == name) return &certificate;
  }
  return nullptr;
}

// Two hosts with their own Secrets, so "everything else is unaffected" can be checked.
State TwoHosts() {
  State state;
  state.Backend("svc");
  state.Add(TlsSecret("a-tls"));
  state.Add(SecondSecret("b-tls"));
  state.Add(IngressBuilder("a").tls({"a.example"}, "a-tls").host("a.example").path("/", "svc", 80));
  state.Add(IngressBuilder("b").tls({"b.example"}, "b-tls").host("b.example").path("/", "svc", 80));
  return state;
}

TEST(DefaultCertificate, SecretBecomesTheDefaultCertificate) {
  State state = TwoHosts();
  state.Add(SecondSecret("wildcard", "pier-system"));
  Options options;
  options.default_tls_secret = "pier-system/wildcard";
  const Output out = state.Translate(options);
  EXPECT_EQ(out.snapshot.default_certificate(), "pier-system/wildcard");
  const auto* certificate = FindCertificate(out.snapshot, "pier-system/wildcard");
  ASSERT_NE(certificate, nullptr);
  EXPECT_EQ(certificate->certificate_chain_pem(), testdata::kSecondCertificatePem);
  EXPECT_EQ(certificate->sni_names_size(), 0) << "offered for unknown SNI, not for named hosts";
  EXPECT_EQ(FindHost(out.snapshot, "a.example")->tls_certificate(), "default/a-tls");
  EXPECT_TRUE(out.default_certificate_problem.empty());
  EXPECT_TRUE(out.warnings.empty());
}

TEST(DefaultCertificate, MissingOrBadDefaultFallsBackToTheDataplanesOwn) {
  for (const std::optional<model::Secret>& secret :
       {std::optional<model::Secret>(), std::optional(Broken(TlsSecret("wildcard", "pier-system"), "mismatch"))}) {
    State state = TwoHosts();
    if (secret) state.Add(*secret);
    Options options;
    options.default_tls_secret = "pier-system/wildcard";
    const Output out = state.Translate(options);
    EXPECT_EQ(out.snapshot.default_certificate(), "");
    EXPECT_EQ(FindCertificate(out.snapshot, "pier-system/wildcard"), nullptr);
    EXPECT_NE(out.default_certificate_problem.find("default TLS secret pier-system/wildcard: "), std::string::npos);
    EXPECT_NE(out.default_certificate_problem.find("self-signed"), std::string::npos) << out.default_certificate_problem;
    EXPECT_EQ(out.rejected_secrets, Strings{"pier-system/wildcard"});
    EXPECT_EQ(FindHost(out.snapshot, "a.example")->tls_certificate(), "default/a-tls") << "other hosts unaffected";
    EXPECT_TRUE(out.warnings.empty()) << "no Ingress to warn on";
  }
}

TEST(DefaultCertificate, ServesHostsWhoseSecretIsMissingOrNotNamed) {
  State state;
  state.Backend("svc");
  state.Add(TlsSecret("wildcard", "pier-system"));
  state.Add(IngressBuilder("missing").tls({"missing.example"}, "nope").host("missing.example").path("/", "svc", 80));
  state.Add(IngressBuilder("unnamed").tls({"unnamed.example"}, "").host("unnamed.example").path("/", "svc", 80));
  Options options;
  options.default_tls_secret = "pier-system/wildcard";
  const Output out = state.Translate(options);
  for (const char* host : {"missing.example", "unnamed.example"}) {
    const auto* vhost = FindHost(out.snapshot, host);
    EXPECT_EQ(vhost->tls_certificate(), "pier-system/wildcard") << host;
    EXPECT_TRUE(vhost->routes(0).redirect().ssl_redirect()) << host << ": still a TLS host, as with ingress-nginx";
  }
  ASSERT_EQ(out.warnings.size(), 1u) << "a spec.tls without secretName asks for the default: no warning";
  EXPECT_EQ(out.warnings[0].ingress_name, "missing");
  EXPECT_EQ(out.warnings[0].reason, "BadTLSSecret");
  EXPECT_EQ(out.warnings[0].message,
            "secret default/nope: not found; hosts missing.example are served with the default certificate "
            "pier-system/wildcard");
}

TEST(LastGoodCertificate, BadUpdateKeepsThePreviousCertificateThenRecovers) {
  for (const char* how : {"garbage", "mismatch"}) {
    State state = TwoHosts();
    SnapshotTranslator translator(Options{});
    const Output good = translator(state.state);
    ASSERT_EQ(FindCertificate(good.snapshot, "default/a-tls")->certificate_chain_pem(), testdata::kCertificatePem);

    state.Add(Broken(TlsSecret("a-tls"), how));
    const Output bad = translator(state.state);
    const auto* kept = FindCertificate(bad.snapshot, "default/a-tls");
    ASSERT_NE(kept, nullptr) << how;
    EXPECT_EQ(kept->certificate_chain_pem(), testdata::kCertificatePem);
    EXPECT_EQ(kept->private_key_pem(), testdata::kPrivateKeyPem);
    EXPECT_EQ(Strings(kept->sni_names().begin(), kept->sni_names().end()), Strings{"a.example"});
    EXPECT_EQ(FindHost(bad.snapshot, "a.example")->tls_certificate(), "default/a-tls");
    EXPECT_EQ(FindCertificate(bad.snapshot, "default/b-tls")->certificate_chain_pem(), testdata::kSecondCertificatePem)
        << "other hosts unaffected";
    ASSERT_EQ(bad.warnings.size(), 1u);
    EXPECT_EQ(bad.warnings[0].reason, "BadTLSSecret");
    EXPECT_EQ(bad.warnings[0].ingress_name, "a");
    EXPECT_TRUE(bad.warnings[0].message.starts_with("secret default/a-tls: ")) << bad.warnings[0].message;
    EXPECT_TRUE(bad.warnings[0].message.ends_with("; hosts a.example keep its previous good certificate"))
        << bad.warnings[0].message;
    EXPECT_EQ(bad.rejected_secrets, Strings{"default/a-tls"});

    // A second bad build still has the same fallback (the history keeps the last good one).
    EXPECT_EQ(FindCertificate(translator(state.state).snapshot, "default/a-tls")->certificate_chain_pem(),
              testdata::kCertificatePem);

    state.Add(SecondSecret("a-tls"));
    const Output fixed = translator(state.state);
    EXPECT_EQ(FindCertificate(fixed.snapshot, "default/a-tls")->certificate_chain_pem(), testdata::kSecondCertificatePem);
    EXPECT_TRUE(fixed.warnings.empty());
    EXPECT_TRUE(fixed.rejected_secrets.empty());
  }
}

TEST(LastGoodCertificate, BrokenFromTheStartFallsBackToTheDefault) {
  State state = TwoHosts();
  state.Add(TlsSecret("wildcard", "pier-system"));
  state.Add(Broken(TlsSecret("a-tls"), "garbage"));
  Options options;
  options.default_tls_secret = "pier-system/wildcard";
  SnapshotTranslator translator(options);
  const Output out = translator(state.state);
  EXPECT_EQ(FindCertificate(out.snapshot, "default/a-tls"), nullptr);
  EXPECT_EQ(FindHost(out.snapshot, "a.example")->tls_certificate(), "pier-system/wildcard");
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_TRUE(out.warnings[0].message.ends_with("; hosts a.example are served with the default certificate pier-system/wildcard"))
      << out.warnings[0].message;
}

TEST(LastGoodCertificate, DeletedSecretTakesItsCertificateWithIt) {
  State state = TwoHosts();
  SnapshotTranslator translator(Options{});
  translator(state.state);
  EXPECT_EQ(translator.history().size(), 2u);

  state.state.secrets.erase("default/a-tls");
  const Output deleted = translator(state.state);
  EXPECT_EQ(FindCertificate(deleted.snapshot, "default/a-tls"), nullptr);
  EXPECT_EQ(FindHost(deleted.snapshot, "a.example")->tls_certificate(), "");
  EXPECT_EQ(translator.history().size(), 1u) << "the deleted Secret is forgotten";

  // Recreated broken: there is no earlier good certificate of this Secret to fall back to.
  state.Add(Broken(TlsSecret("a-tls"), "garbage"));
  EXPECT_EQ(FindCertificate(translator(state.state).snapshot, "default/a-tls"), nullptr);
}

TEST(LastGoodCertificate, RecreatedSecretDoesNotInheritTheOldOnesHistory) {
  State state = TwoHosts();
  model::Secret original = TlsSecret("a-tls");
  original.meta.uid = "uid-1";
  state.Add(original);
  SnapshotTranslator translator(Options{});
  translator(state.state);
  // Deleted and recreated (new uid) between two builds, broken.
  model::Secret recreated = Broken(TlsSecret("a-tls"), "mismatch");
  recreated.meta.uid = "uid-2";
  state.Add(recreated);
  EXPECT_EQ(FindCertificate(translator(state.state).snapshot, "default/a-tls"), nullptr);
}

TEST(LastGoodCertificate, PureTranslateUsesOnlyTheHistoryItIsGiven) {
  State state = TwoHosts();
  CertificateHistory history;
  history.Update(Translate(state.state, {}).good_certificates, state.state);
  state.Add(Broken(TlsSecret("a-tls"), "garbage"));
  const Output with = Translate(state.state, {}, BuildContext{&history, std::nullopt});
  const Output without = Translate(state.state, {});
  EXPECT_NE(FindCertificate(with.snapshot, "default/a-tls"), nullptr);
  EXPECT_EQ(FindCertificate(without.snapshot, "default/a-tls"), nullptr);
  EXPECT_EQ(Translate(state.state, {}, BuildContext{&history, std::nullopt}).snapshot.SerializeAsString(),
            with.snapshot.SerializeAsString());
}

TEST(ExpiredCertificate, IsServedButWarned) {
  State state = TwoHosts();
  // The test certificate is valid until 2126; a clock in 2200 sees it expired.
  const auto future = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 230));
  const Output out = Translate(state.state, {}, BuildContext{nullptr, future});
  EXPECT_NE(FindCertificate(out.snapshot, "default/a-tls"), nullptr);
  EXPECT_EQ(FindHost(out.snapshot, "a.example")->tls_certificate(), "default/a-tls");
  ASSERT_EQ(out.warnings.size(), 2u);
  EXPECT_EQ(out.warnings[0].reason, "BadTLSSecret");
  EXPECT_TRUE(out.warnings[0].message.starts_with("secret default/a-tls: certificate expired at 21")) << out.warnings[0].message;
  EXPECT_TRUE(out.warnings[0].message.ends_with("UTC; served anyway"));
  EXPECT_TRUE(out.rejected_secrets.empty()) << "expired is served, not rejected";

  const Output now = Translate(state.state, {}, BuildContext{nullptr, std::chrono::system_clock::now()});
  EXPECT_TRUE(now.warnings.empty());
}

// The leaf's notAfter is read once, when the Secret is checked; a build that finds the Secret
// unchanged takes it from the last good record instead of parsing the chain again.
TEST(ExpiredCertificate, NotAfterIsReadOnceAndCarriedOver) {
  State state = TwoHosts();
  const model::Secret& secret = state.state.secrets.at("default/a-tls");
  auto checked = CheckTlsSecret(secret);
  ASSERT_TRUE(checked);
  ASSERT_TRUE(checked->not_after);
  EXPECT_EQ(checked->not_after, LeafNotAfter(secret.data.at("tls.crt")));
  EXPECT_FALSE(ExpiredAt(*checked, std::chrono::system_clock::now()));
  EXPECT_TRUE(ExpiredAt(*checked, *checked->not_after));  // invalid from its notAfter second on
  EXPECT_FALSE(ExpiredAt(*checked, *checked->not_after - std::chrono::seconds(1)));

  CertificateMaterial recorded = *checked;
  recorded.not_after = std::chrono::system_clock::time_point(std::chrono::hours(24));  // 1970-01-02
  auto again = CheckTlsSecret(secret, &recorded);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->not_after, recorded.not_after);
  EXPECT_EQ(ExpiredAt(*again, std::chrono::system_clock::now()), "expired at 1970-01-02 00:00:00 UTC");
}

// A Secret holding exactly what an earlier build found good is not checked again. Shown with a
// "last good" record of a mismatched pair: accepted only when it equals the Secret exactly.
TEST(LastGoodCertificate, AnUnchangedSecretIsNotCheckedAgain) {
  const model::Secret mismatched = Broken(TlsSecret("a-tls"), "mismatch");
  ASSERT_FALSE(CheckTlsSecret(mismatched));
  const CertificateMaterial recorded{mismatched.meta.uid, mismatched.data.at("tls.crt"), mismatched.data.at("tls.key"),
                                     std::nullopt};
  auto taken = CheckTlsSecret(mismatched, &recorded);
  ASSERT_TRUE(taken);
  EXPECT_EQ(*taken, recorded);

  CertificateMaterial other_uid = recorded;
  other_uid.uid += "-recreated";
  EXPECT_FALSE(CheckTlsSecret(mismatched, &other_uid));
  CertificateMaterial other_key = recorded;
  other_key.key_pem = testdata::kPrivateKeyPem;
  EXPECT_FALSE(CheckTlsSecret(mismatched, &other_key));
  model::Secret opaque = mismatched;
  opaque.type = "Opaque";
  EXPECT_FALSE(CheckTlsSecret(opaque, &recorded));  // the type is checked every time
}

}  // namespace
}  // namespace pier::translate
