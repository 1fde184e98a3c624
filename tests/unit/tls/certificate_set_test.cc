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

// A snapshot that leaves a certificate's chain and key alone must not compile it again: the
// context (and its session ticket keys) is taken over; any change of bytes compiles anew.
TEST(CertificateSetReuse, UnchangedCertificatesKeepTheirContext) {
  pier::v1::Snapshot first;
  *first.add_certificates() = Entry("apps/kept", {"kept.example.com"});
  *first.add_certificates() = Entry("apps/renamed-hosts", {"old.example.com"});
  *first.add_certificates() = Entry("apps/rotated", {"rotated.example.com"});
  auto before = BuildOrDie(first);
  ASSERT_NE(before, nullptr);

  pier::v1::Snapshot second = first;
  second.mutable_certificates(1)->clear_sni_names();
  second.mutable_certificates(1)->add_sni_names("new.example.com");
  *second.mutable_certificates(2) = Entry("apps/rotated", {"rotated.example.com"});  // a new key pair
  *second.add_certificates() = Entry("apps/added", {"added.example.com"});
  auto built = CertificateSet::Build(second, before.get());
  ASSERT_TRUE(built) << built.error();
  const CertificateSet& after = **built;

  auto context_of = [](const CertificateSet& set, std::string_view host) {
    auto chosen = set.Select(host);
    return chosen ? chosen->context : nullptr;
  };
  EXPECT_EQ(context_of(after, "kept.example.com"), context_of(*before, "kept.example.com"));
  // Same bytes, other SNI names: the context is the same, the names are the new ones.
  EXPECT_EQ(context_of(after, "new.example.com"), context_of(*before, "old.example.com"));
  EXPECT_EQ(after.Select("old.example.com"), nullptr);
  EXPECT_NE(context_of(after, "rotated.example.com"), context_of(*before, "rotated.example.com"));
  EXPECT_NE(context_of(after, "added.example.com"), nullptr);
  auto kept = after.Select("kept.example.com");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->not_after, before->Select("kept.example.com")->not_after);
}

TEST(CertificateSetReuse, SameBytesUnderAnotherNameAreCompiledAndABrokenChangeIsRefused) {
  pier::v1::Snapshot first;
  *first.add_certificates() = Entry("apps/one", {"one.example.com"});
  auto before = BuildOrDie(first);
  ASSERT_NE(before, nullptr);

  pier::v1::Snapshot moved = first;
  moved.mutable_certificates(0)->set_name("apps/two");
  auto built = CertificateSet::Build(moved, before.get());
  ASSERT_TRUE(built) << built.error();
  EXPECT_NE((*built)->Select("one.example.com")->context, before->Select("one.example.com")->context);

  pier::v1::Snapshot broken = first;
  broken.mutable_certificates(0)->set_private_key_pem(MakeSelfSigned("other").key_pem);
  auto refused = CertificateSet::Build(broken, before.get());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("apps/one"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("does not match"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace pier::dataplane::tls
