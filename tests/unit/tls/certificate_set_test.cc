// CertificateSet: SNI selection, chain parsing and key checks of snapshot certificates.
#include "tls/certificate_set.h"

#include <gtest/gtest.h>

#include <ctime>

#include "test_certificate.h"

namespace pier::dataplane::tls {
namespace {

using pier::dataplane::testing::MakeSelfSigned;

pier::v1::TlsCertificate Entry(const std::string& name, std::vector<std::string> sni) {
  auto generated = MakeSelfSigned(name);
  pier::v1::TlsCertificate entry;
  entry.set_name(name);
  entry.set_certificate_chain_pem(generated.chain_pem);
  entry.set_private_key_pem(generated.key_pem);
  for (auto& name_ : sni) entry.add_sni_names(name_);
  return entry;
}

std::shared_ptr<const CertificateSet> BuildOrDie(const pier::v1::Snapshot& snapshot) {
  auto set = CertificateSet::Build(snapshot);
  EXPECT_TRUE(set) << (set ? "" : set.error());
  return set ? *set : nullptr;
}

std::string Chosen(const CertificateSet& set, std::string_view sni) {
  auto chosen = set.Select(sni);
  return chosen ? chosen->name : "<none>";
}

class SelectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pier::v1::Snapshot snapshot;
    *snapshot.add_certificates() = Entry("apps/exact", {"a.example.com", "b.example.com"});
    *snapshot.add_certificates() = Entry("apps/wild", {"*.example.com"});
    *snapshot.add_certificates() = Entry("apps/deep", {"*.b.example.com"});
    set_ = BuildOrDie(snapshot);
    ASSERT_NE(set_, nullptr);
  }
  std::shared_ptr<const CertificateSet> set_;
};

TEST_F(SelectionTest, ExactNameBeatsWildcard) {
  EXPECT_EQ(Chosen(*set_, "a.example.com"), "apps/exact");
  EXPECT_EQ(Chosen(*set_, "b.example.com"), "apps/exact");
  EXPECT_EQ(Chosen(*set_, "c.example.com"), "apps/wild");
}

TEST_F(SelectionTest, WildcardCoversExactlyOneLabel) {
  EXPECT_EQ(Chosen(*set_, "example.com"), "<none>");
  EXPECT_EQ(Chosen(*set_, "x.y.example.com"), "<none>");
  EXPECT_EQ(Chosen(*set_, "x.b.example.com"), "apps/deep");
  EXPECT_EQ(Chosen(*set_, ".example.com"), "<none>");
}

TEST_F(SelectionTest, CaseInsensitiveAndTrailingDot) {
  EXPECT_EQ(Chosen(*set_, "A.Example.COM"), "apps/exact");
  EXPECT_EQ(Chosen(*set_, "C.EXAMPLE.com."), "apps/wild");
}

TEST_F(SelectionTest, NoOrUnknownNameSelectsNothing) {
  EXPECT_EQ(Chosen(*set_, ""), "<none>");
  EXPECT_EQ(Chosen(*set_, "other.test"), "<none>");
  EXPECT_EQ(set_->default_certificate(), nullptr);
}

TEST_F(SelectionTest, CoversMatchesItsOwnNamesOnly) {
  auto wild = set_->Select("c.example.com");
  ASSERT_NE(wild, nullptr);
  EXPECT_TRUE(wild->Covers("zz.example.com"));
  EXPECT_FALSE(wild->Covers("a.b.example.com"));
  EXPECT_FALSE(wild->Covers("example.com"));
}

TEST(CertificateSetTest, FirstCertificateByNameWinsADuplicatedSniName) {
  pier::v1::Snapshot snapshot;
  *snapshot.add_certificates() = Entry("ns/b", {"dup.example.com"});
  *snapshot.add_certificates() = Entry("ns/a", {"dup.example.com"});
  auto set = BuildOrDie(snapshot);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(Chosen(*set, "dup.example.com"), "ns/a");
}

TEST(CertificateSetTest, DefaultCertificateMustExist) {
  pier::v1::Snapshot snapshot;
  *snapshot.add_certificates() = Entry("ns/fallback", {"x.example.com"});
  snapshot.set_default_certificate("ns/fallback");
  auto set = BuildOrDie(snapshot);
  ASSERT_NE(set, nullptr);
  ASSERT_NE(set->default_certificate(), nullptr);
  EXPECT_EQ(set->default_certificate()->name, "ns/fallback");

  snapshot.set_default_certificate("ns/missing");
  auto missing = CertificateSet::Build(snapshot);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("ns/missing"), std::string::npos) << missing.error();
}

TEST(CertificateSetTest, GarbagePemIsRefusedWithTheCertificateName) {
  pier::v1::Snapshot snapshot;
  auto entry = Entry("ns/broken", {"x.example.com"});
  entry.set_certificate_chain_pem("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  *snapshot.add_certificates() = entry;
  auto set = CertificateSet::Build(snapshot);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().find("ns/broken"), std::string::npos) << set.error();
  EXPECT_NE(set.error().find("certificate chain"), std::string::npos) << set.error();
}

TEST(CertificateSetTest, KeyOfAnotherCertificateIsRefused) {
  pier::v1::Snapshot snapshot;
  auto entry = Entry("ns/mismatch", {"x.example.com"});
  entry.set_private_key_pem(MakeSelfSigned("other").key_pem);
  *snapshot.add_certificates() = entry;
  auto set = CertificateSet::Build(snapshot);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().find("does not match"), std::string::npos) << set.error();
}

TEST(CertificateSetTest, ChainWithIntermediateLoadsAndExpiryIsTheLeafs) {
  auto leaf = MakeSelfSigned("leaf.example.com");
  auto intermediate = MakeSelfSigned("intermediate");
  pier::v1::Snapshot snapshot;
  pier::v1::TlsCertificate entry;
  entry.set_name("ns/chain");
  entry.set_certificate_chain_pem(leaf.chain_pem + intermediate.chain_pem);
  entry.set_private_key_pem(leaf.key_pem);
  entry.add_sni_names("leaf.example.com");
  *snapshot.add_certificates() = entry;
  auto set = BuildOrDie(snapshot);
  ASSERT_NE(set, nullptr);
  auto chosen = set->Select("leaf.example.com");
  ASSERT_NE(chosen, nullptr);
  ASSERT_TRUE(chosen->not_after.has_value());
  // The test helper makes certificates valid for one hour from now.
  const auto now = static_cast<int64_t>(std::time(nullptr));
  EXPECT_GE(*chosen->not_after, now + 3600 - 60);
  EXPECT_LE(*chosen->not_after, now + 3600 + 60);
}

TEST(CertificateSetTest, LeafNotAfterOfGarbageIsEmpty) {
  EXPECT_FALSE(LeafNotAfter("").has_value());
  EXPECT_FALSE(LeafNotAfter("hello").has_value());
}

}  // namespace
}  // namespace pier::dataplane::tls
