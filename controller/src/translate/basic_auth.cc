#include "translate/basic_auth.h"

#include "annotations/registry.h"
#include "pier/common/htpasswd.h"

namespace pier::translate {
namespace {

constexpr uint32_t kUnavailable = 503;

std::string Written(const model::Ingress& ingress, const std::string& written) {
  const auto value = ingress.meta.annotations.find(written);
  return "annotation " + written + "=\"" + (value == ingress.meta.annotations.end() ? "" : value->second) + "\"";
}

}  // namespace

BasicAuthChoice ResolveBasicAuth(const model::Ingress& ingress, const annotations::IngressAnnotations& values,
                                 const model::ClusterState& state, WarningSink& warnings) {
  BasicAuthChoice out;
  const bool basic = values.auth_type == annotations::AuthType::kBasic;
  if (!basic && !values.auth_secret) return out;

  auto fail = [&](const std::string& key, const std::string& problem) {
    const std::string written = annotations::WrittenKey(ingress.meta.annotations, key);
    warnings.Add(ingress, "InvalidAnnotation", Written(ingress, written) + ": " + problem + "; routes of this Ingress fail closed",
                 written);
    out.failure = Unresolved{kUnavailable, "basic authentication unusable: " + problem};
    return out;
  };
  // Either one alone is a mistake; ingress-nginx would serve the Ingress open, Pier does not.
  if (!values.auth_secret) return fail("auth-type", "auth-type basic needs auth-secret");
  if (!basic) return fail("auth-secret", "auth-secret needs auth-type basic");

  const annotations::SecretRef& ref = *values.auth_secret;
  const std::string key = (ref.namespace_.empty() ? ingress.meta.namespace_ : ref.namespace_) + "/" + ref.name;
  const auto secret = state.secrets.find(key);
  if (secret == state.secrets.end()) return fail("auth-secret", "secret " + key + " not found");
  const auto file = secret->second.data.find("auth");
  if (file == secret->second.data.end()) return fail("auth-secret", "secret " + key + " has no key auth");

  auth::HtpasswdFile parsed = auth::ParseHtpasswd(file->second);
  if (!parsed.problems.empty()) {
    // The usable users still authenticate; the others are named (never their hashes).
    const std::string written = annotations::WrittenKey(ingress.meta.annotations, "auth-secret");
    for (const std::string& problem : parsed.problems) {
      warnings.Add(ingress, "InvalidAnnotation",
                   Written(ingress, written) + ": secret " + key + " key auth " + problem + "; line skipped", written);
    }
  }
  if (parsed.users.empty()) return fail("auth-secret", "secret " + key + " key auth holds no usable user");

  out.settings.set_enabled(true);
  out.settings.set_realm(values.auth_realm);
  for (auth::Credential& user : parsed.users) {
    pier::v1::BasicAuthUser& entry = *out.settings.add_users();
    entry.set_name(std::move(user.user));
    entry.set_hash(std::move(user.hash));
  }
  return out;
}

}  // namespace pier::translate
