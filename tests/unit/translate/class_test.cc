// Which Ingresses are ours: IngressClass, the legacy annotation, default class, namespace.
#include <gtest/gtest.h>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;

bool Ours(const State& state, const IngressBuilder& ingress, const Options& options = {}) {
  return IsOurs(ingress.build(), state.state, options);
}

TEST(IngressClassSelection, ClassNameMustNameAClassWithOurController) {
  State state;
  state.Add(IngressClass("nginx", "k8s.io/ingress-nginx"));
  EXPECT_TRUE(Ours(state, IngressBuilder("a").ingress_class("pier")));
  EXPECT_FALSE(Ours(state, IngressBuilder("a").ingress_class("nginx")));
  EXPECT_FALSE(Ours(state, IngressBuilder("a").ingress_class("missing")));

  Options options;
  options.controller_name = "example.com/other";
  EXPECT_FALSE(Ours(state, IngressBuilder("a").ingress_class("pier"), options));
}

TEST(IngressClassSelection, LegacyAnnotationWinsOverClassName) {
  State state;
  state.Add(IngressClass("nginx", "k8s.io/ingress-nginx"));
  EXPECT_TRUE(Ours(state, IngressBuilder("a").ingress_class("nginx").annotation("kubernetes.io/ingress.class", "pier")));
  EXPECT_FALSE(Ours(state, IngressBuilder("a").ingress_class("pier").annotation("kubernetes.io/ingress.class", "nginx")));
  EXPECT_TRUE(Ours(state, IngressBuilder("a").ingress_class(std::nullopt).annotation("kubernetes.io/ingress.class", "pier")));

  Options options;
  options.ingress_class = "edge";
  EXPECT_TRUE(Ours(state, IngressBuilder("a").annotation("kubernetes.io/ingress.class", "edge"), options));
}

TEST(IngressClassSelection, ClasslessOnlyWithDefaultClassOrFlag) {
  State state;
  const auto classless = IngressBuilder("a").ingress_class(std::nullopt);
  EXPECT_FALSE(Ours(state, classless));

  Options watch_all;
  watch_all.watch_ingress_without_class = true;
  EXPECT_TRUE(Ours(state, classless, watch_all));

  State with_default;
  with_default.Add(IngressClass("pier", "pier.dev/ingress-controller", true));
  EXPECT_TRUE(Ours(with_default, classless));

  State others_default;
  others_default.Add(IngressClass("nginx", "k8s.io/ingress-nginx", true));
  EXPECT_FALSE(Ours(others_default, classless)) << "another controller's default class is not ours";

  model::IngressClass not_true = IngressClass("pier");
  not_true.meta.annotations["ingressclass.kubernetes.io/is-default-class"] = "yes";
  State weird_default;
  weird_default.Add(not_true);
  EXPECT_FALSE(Ours(weird_default, classless));
}

TEST(IngressClassSelection, NamespaceFilter) {
  State state;
  Options options;
  options.namespace_ = "team-a";
  EXPECT_TRUE(Ours(state, IngressBuilder("a", "team-a"), options));
  EXPECT_FALSE(Ours(state, IngressBuilder("a", "team-b"), options));
  options.watch_ingress_without_class = true;
  EXPECT_FALSE(Ours(state, IngressBuilder("a", "team-b").ingress_class(std::nullopt), options));
}

TEST(IngressClassSelection, TranslateServesOnlyOurs) {
  State state;
  state.Backend("svc");
  state.Add(IngressClass("nginx", "k8s.io/ingress-nginx"));
  state.Add(IngressBuilder("mine").host("mine.example").path("/", "svc", 80));
  state.Add(IngressBuilder("theirs").ingress_class("nginx").host("theirs.example").path("/", "svc", 80));
  const Output out = state.Translate();
  EXPECT_EQ(out.served_ingresses, std::vector<std::string>{"default/mine"});
  EXPECT_NE(FindHost(out.snapshot, "mine.example"), nullptr);
  EXPECT_EQ(FindHost(out.snapshot, "theirs.example"), nullptr);
}

}  // namespace
}  // namespace pier::translate
