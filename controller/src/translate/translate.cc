// The translation pipeline: pick our Ingresses, oldest first; read their annotations and TLS;
// turn every rule path into a route, resolving conflicts in favour of the oldest Ingress; add
// default backends with the lowest precedence; then emit everything sorted.
#include "translate/translate.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "annotations/registry.h"
#include "pier/common/match.h"
#include "pier/common/path_regex.h"
#include "translate/backend_tls.h"
#include "translate/basic_auth.h"
#include "translate/client_auth.h"
#include "translate/backends.h"
#include "translate/external_auth.h"
#include "translate/names.h"
#include "translate/route_policy.h"
#include "translate/tls.h"
#include "translate/warnings.h"

namespace pier::translate {
namespace {

struct ServedIngress {
  const model::Ingress* ingress;
  annotations::IngressAnnotations annotations;
  BackendTlsChoice backend_tls;
  BasicAuthChoice basic_auth;
  ClientAuthChoice client_auth;  // auth-tls-*: what this Ingress asks of its hosts
};

// Oldest first: creationTimestamp (RFC 3339, compares lexically), then namespace/name.
bool Older(const model::Ingress* a, const model::Ingress* b) {
  return std::tie(a->meta.creation_timestamp, a->meta.namespace_, a->meta.name) <
         std::tie(b->meta.creation_timestamp, b->meta.namespace_, b->meta.name);
}

struct PendingRoute {
  std::string host;
  const ServedIngress* owner;
  pier::v1::Route route;
};

// One (host, type, path) is served by one route; the first claim wins.
using ClaimKey = std::tuple<std::string, int, std::string>;  // host, PathMatch type, path

class Translator final {
 public:
  Translator(const model::ClusterState& state, const Options& options, const BuildContext& context)
      : state_(state), options_(options), now_(context.now), backends_(state, context.clusters), tls_(state, context) {}

  Output Run();

 private:
  void ReadAnnotations(ServedIngress& served);
  void AddRulePaths(const ServedIngress& served);
  // One valid path of rule i: its route on the rule's host and on each server-alias.
  void AddRulePath(const ServedIngress& served, const std::string& host, std::size_t i, std::size_t j,
                   const std::string& text);
  void AddDefaultBackend(const ServedIngress& served);
  // --default-backend-service: "/" on the catch-all host and on every host no route of which
  // has the path "/", owned by a stand-in Ingress (no annotations, the Service's namespace).
  void AddGlobalDefaultBackend();
  // The --default-backend-service cluster when it has a ready endpoint (custom-http-errors).
  std::optional<std::string> GlobalDefaultCluster();
  // The stand-in for --default-backend-service; nullptr when the flag is not set or its Service
  // is unusable (then default_backend_problem_ says why).
  const ServedIngress* GlobalDefault();
  // from-to-www-redirect: a 308 on the other www. name of each rule host, when that name has no
  // route of its own.
  void AddWwwRedirects(const ServedIngress& served);
  void AddRoute(const ServedIngress& served, const std::string& host, pier::v1::PathMatch::Type type,
                const std::string& path, const model::IngressBackend& backend, std::string name, bool is_default);
  // default-backend: the cluster of the Ingress' default-backend Service when it has a ready
  // endpoint, for a route whose own Service has none.
  std::optional<std::string> DefaultBackendCluster(const ServedIngress& served);
  // custom-http-errors: the route's error pages from the default backend, when it has a ready
  // endpoint (a canary copies its main route's).
  void AddCustomHttpErrors(const ServedIngress& served, const model::IngressBackend& backend, pier::v1::Route& route);
  // A path of a canary Ingress: attached to the route of another Ingress with the same host
  // and path, after every non-canary path has been added.
  void AddCanary(const ServedIngress& served, const std::string& host, bool exact, const std::string& path,
                 const model::IngressBackend& backend, std::string name);
  void Assemble(Output& out);
  // auth-tls-*: the host's client-certificate policy, from the oldest of its Ingresses that asks
  // for one (the others are warned when they ask for something else). An unusable CA closes
  // every route of the host.
  void ApplyClientAuth(const std::string& host, const std::vector<PendingRoute*>& routes,
                       pier::v1::VirtualHost& vhost);
  // ssl-passthrough: the host's TLS goes to the backend of the path "/" of the Ingress that
  // asks for it, when that is the oldest Ingress serving the host.
  void ApplyCiphers(const std::string& host, const std::vector<PendingRoute*>& routes, pier::v1::VirtualHost& vhost);
  void ApplyPassthrough(const std::string& host, const std::vector<PendingRoute*>& routes,
                        pier::v1::VirtualHost& vhost);

  const model::ClusterState& state_;
  const Options& options_;
  const std::optional<std::chrono::system_clock::time_point> now_;
  BackendResolver backends_;
  TlsCatalog tls_;
  WarningSink warnings_;
  std::vector<PendingRoute> routes_;
  std::map<ClaimKey, const ServedIngress*> claims_;
  std::map<ClaimKey, std::size_t> claimed_routes_;  // index into routes_ of each claim's route
  std::map<std::size_t, const ServedIngress*> canaries_;  // main route index -> its canary Ingress
  std::set<std::string> rule_hosts_;  // every rule host of every Ingress: no server-alias takes one
  std::set<ClaimKey> explicit_claims_;
  // --default-backend-service: the stand-in Ingress and what it serves, once looked up.
  bool global_default_resolved_ = false;
  model::Ingress global_default_ingress_;
  std::optional<ServedIngress> global_default_;
  std::optional<model::IngressBackend> global_default_backend_;
  std::string default_backend_problem_;
};

Output Translator::Run() {
  std::vector<const model::Ingress*> ours;
  for (const auto& [key, ingress] : state_.ingresses) {
    if (IsOurs(ingress, state_, options_)) ours.push_back(&ingress);
  }
  std::sort(ours.begin(), ours.end(), Older);
  tls_.SetDefault(options_.default_tls_secret);

  std::vector<ServedIngress> served;
  served.reserve(ours.size());
  for (const model::Ingress* ingress : ours) {
    ServedIngress& entry = served.emplace_back(ServedIngress{ingress, {}, {}, {}, {}});
    ReadAnnotations(entry);
    if (entry.annotations.ssl_passthrough && !options_.enable_ssl_passthrough) {
      warnings_.Add(*ingress, "PassthroughDisabled",
                    "ssl-passthrough needs the controller flag --enable-ssl-passthrough (chart: "
                    "controller.enableSSLPassthrough); TLS for this Ingress' hosts ends at Pier",
                    annotations::WrittenKey(ingress->meta.annotations, "ssl-passthrough"));
      entry.annotations.ssl_passthrough = false;
    }
    entry.backend_tls = ResolveBackendTls(*ingress, entry.annotations, state_, warnings_);
    // A canary runs under its main Ingress' policy, authentication included.
    if (!entry.annotations.canary) {
      entry.basic_auth = ResolveBasicAuth(*ingress, entry.annotations, state_, warnings_);
      if (entry.basic_auth.failure && !entry.annotations.fail_closed) {
        entry.annotations.fail_closed =
            annotations::FailClosed{entry.basic_auth.failure->status, entry.basic_auth.failure->reason};
      }
      entry.client_auth = ResolveClientAuth(*ingress, entry.annotations, state_, warnings_, now_);
    }
    tls_.Add(*ingress, warnings_);
  }
  for (const ServedIngress& entry : served) {
    for (const model::IngressRule& rule : entry.ingress->rules) rule_hosts_.insert(LowercaseAscii(rule.host));
  }
  for (const ServedIngress& entry : served) {
    if (!entry.annotations.canary) AddRulePaths(entry);
  }
  // Default backends only take what no rule of any Ingress claimed. A canary's is not used.
  for (const ServedIngress& entry : served) {
    if (!entry.annotations.canary) AddDefaultBackend(entry);
  }
  for (const ServedIngress& entry : served) {
    if (!entry.annotations.canary && entry.annotations.from_to_www_redirect) AddWwwRedirects(entry);
  }
  for (const ServedIngress& entry : served) {
    if (entry.annotations.canary) AddRulePaths(entry);
  }
  AddGlobalDefaultBackend();

  Output out;
  Assemble(out);
  out.default_backend_problem = default_backend_problem_;
  for (const model::Ingress* ingress : ours) out.served_ingresses.push_back(model::KeyOf(ingress->meta));
  std::sort(out.served_ingresses.begin(), out.served_ingresses.end());
  out.warnings = warnings_.Take();
  return out;
}

void Translator::ReadAnnotations(ServedIngress& served) {
  annotations::ParseOutput parsed = annotations::Parse(served.ingress->meta.annotations);
  for (annotations::Problem& problem : parsed.problems) {
    if (problem.unknown) {
      warnings_.Add(*served.ingress, "UnknownAnnotation", "unknown annotation " + problem.key, problem.key);
      continue;
    }
    if (problem.unsupported) {
      warnings_.Add(*served.ingress, "UnsupportedAnnotation",
                    "annotation " + problem.key + ": " + problem.why +
                        (problem.security ? "; routes of this Ingress fail closed" : ""),
                    problem.key);
      continue;
    }
    std::string message = "annotation " + problem.key + "=\"" + problem.value + "\": " + problem.why +
                          (problem.security ? "; routes of this Ingress fail closed" : "; using the default");
    warnings_.Add(*served.ingress, "InvalidAnnotation", std::move(message), problem.key);
  }
  served.annotations = std::move(parsed.values);
  const annotations::IngressAnnotations& values = served.annotations;
  const bool from = !values.proxy_redirect_from.empty() && values.proxy_redirect_from != "off" &&
                    values.proxy_redirect_from != "default";
  if (from != !values.proxy_redirect_to.empty()) {
    const char* key = from ? "proxy-redirect-from" : "proxy-redirect-to";
    warnings_.Add(*served.ingress, "InvalidAnnotation",
                  std::string("annotation ") + key +
                      ": proxy-redirect-from and proxy-redirect-to go together; Location headers are not rewritten",
                  annotations::WrittenKey(served.ingress->meta.annotations, key));
  }
}

void Translator::AddRulePaths(const ServedIngress& served) {
  const model::Ingress& ingress = *served.ingress;
  for (std::size_t i = 0; i < ingress.rules.size(); ++i) {
    const model::IngressRule& rule = ingress.rules[i];
    const std::string host = LowercaseAscii(rule.host);
    if (!IsValidHost(host)) {
      warnings_.Add(ingress, "InvalidHost", "spec.rules[" + std::to_string(i) + "].host \"" + rule.host +
                                                "\" is not a DNS name or *.name; rule skipped");
      continue;
    }
    for (std::size_t j = 0; j < rule.paths.size(); ++j) {
      const model::HTTPIngressPath& path = rule.paths[j];
      std::string text = path.path;
      if (text.empty() && path.path_type == model::PathType::kImplementationSpecific) text = "/";
      if (!IsValidPath(text)) {
        warnings_.Add(ingress, "InvalidPath",
                      "spec.rules[" + std::to_string(i) + "].http.paths[" + std::to_string(j) + "].path \"" + path.path +
                          "\" must start with \"/\" and hold no spaces or control characters; path skipped");
        continue;
      }
      if (served.annotations.canary) {
        AddCanary(served, host, path.path_type == model::PathType::kExact, text, path.backend,
                  model::KeyOf(ingress.meta) + "/" + std::to_string(i) + "/" + std::to_string(j));
        continue;
      }
      AddRulePath(served, host, i, j, text);
    }
  }
  for (const std::string& alias : served.annotations.server_aliases) {
    if (rule_hosts_.contains(alias)) {
      warnings_.Add(ingress, "ConflictingAlias",
                    "server-alias " + alias + " is the host of an Ingress rule; the alias is ignored");
    }
  }
}

void Translator::AddRulePath(const ServedIngress& served, const std::string& host, std::size_t i, std::size_t j,
                             const std::string& text) {
  const model::Ingress& ingress = *served.ingress;
  const model::HTTPIngressPath& path = ingress.rules[i].paths[j];
  auto type = path.path_type == model::PathType::kExact ? pier::v1::PathMatch::EXACT : pier::v1::PathMatch::PREFIX;
  // As ingress-nginx: use-regex (or rewrite-target) makes this Ingress' Prefix and
  // ImplementationSpecific paths regexes; an Exact path stays exact.
  if (type == pier::v1::PathMatch::PREFIX && served.annotations.RegexPaths()) {
    if (auto regex = match::PathRegex::Compile(text); !regex) {
      warnings_.Add(ingress, "InvalidPath",
                    "spec.rules[" + std::to_string(i) + "].http.paths[" + std::to_string(j) + "].path: " +
                        regex.error() + " (use-regex); path skipped");
      return;
    }
    type = pier::v1::PathMatch::REGEX;
  }
  const std::string name = model::KeyOf(ingress.meta) + "/" + std::to_string(i) + "/" + std::to_string(j);
  AddRoute(served, host, type, text, path.backend, name, false);
  // server-alias: the same path on each alias, for rules with a host (an alias is another name
  // of a host, and a rule without one already serves every host).
  if (host.empty()) return;
  for (const std::string& alias : served.annotations.server_aliases) {
    if (!rule_hosts_.contains(alias)) AddRoute(served, alias, type, text, path.backend, name + " " + alias, false);
  }
}

void Translator::AddWwwRedirects(const ServedIngress& served) {
  const model::Ingress& ingress = *served.ingress;
  std::set<std::string> routed;
  for (const PendingRoute& pending : routes_) routed.insert(pending.host);
  for (std::size_t i = 0; i < ingress.rules.size(); ++i) {
    const std::string host = LowercaseAscii(ingress.rules[i].host);
    if (host.empty() || match::IsWildcardHost(host) || !routed.contains(host)) continue;
    const std::string other = host.starts_with("www.") ? host.substr(4) : "www." + host;
    if (!IsValidHost(other) || match::IsWildcardHost(other)) continue;
    if (routed.contains(other)) {
      // Another rule, alias or redirect serves that name already (or this rule's own twin).
      const bool own = std::any_of(ingress.rules.begin(), ingress.rules.end(),
                                   [&](const auto& rule) { return LowercaseAscii(rule.host) == other; });
      if (!own) {
        warnings_.Add(ingress, "ConflictingRedirect",
                      "from-to-www-redirect: " + other + " is served by an Ingress already; no redirect to " + host,
                      annotations::WrittenKey(ingress.meta.annotations, "from-to-www-redirect"));
      }
      continue;
    }
    PendingRoute& pending = routes_.emplace_back(PendingRoute{other, &served, {}});
    pier::v1::Route& route = pending.route;
    route.set_name(model::KeyOf(ingress.meta) + "/" + std::to_string(i) + "/www");
    route.mutable_ingress()->set_namespace_(ingress.meta.namespace_);
    route.mutable_ingress()->set_name(ingress.meta.name);
    route.mutable_match()->set_type(pier::v1::PathMatch::PREFIX);
    route.mutable_match()->set_path("/");
    pier::v1::RouteRedirect& redirect = *route.mutable_route_redirect();
    redirect.set_status(308);
    redirect.set_location((tls_.HasTls(host) ? "https://" : "http://") + host);
    redirect.set_append_request_uri(true);
    routed.insert(other);
  }
}

void Translator::AddDefaultBackend(const ServedIngress& served) {
  const model::Ingress& ingress = *served.ingress;
  if (!ingress.default_backend) return;
  const std::string base = model::KeyOf(ingress.meta);
  AddRoute(served, "", pier::v1::PathMatch::PREFIX, "/", *ingress.default_backend, base + "/default", true);
  // Also on each of the Ingress' own hosts: a request for one of them that no path matches
  // would otherwise never reach the catch-all host.
  std::set<std::string> done;
  for (std::size_t i = 0; i < ingress.rules.size(); ++i) {
    const std::string host = LowercaseAscii(ingress.rules[i].host);
    if (host.empty() || !IsValidHost(host) || !done.insert(host).second) continue;
    AddRoute(served, host, pier::v1::PathMatch::PREFIX, "/", *ingress.default_backend,
             base + "/" + std::to_string(i) + "/default", true);
  }
}

const ServedIngress* Translator::GlobalDefault() {
  if (global_default_resolved_) return global_default_ ? &*global_default_ : nullptr;
  global_default_resolved_ = true;
  const std::string& key = options_.default_backend_service;
  if (key.empty()) return nullptr;
  const auto slash = key.find('/');
  const auto service = state_.services.find(key);
  if (slash == std::string::npos || service == state_.services.end() || service->second.ports.empty()) {
    default_backend_problem_ = "default backend service " + key +
                               (service == state_.services.end() ? " not found" : " has no ports") +
                               "; requests no Ingress serves get Pier's 404";
    return nullptr;
  }
  // No name: its requests are counted under ingress="" (as ingress-nginx's default backend's),
  // and it is younger than every Ingress, so it never wins an "oldest Ingress" choice.
  global_default_ingress_.meta.namespace_ = key.substr(0, slash);
  global_default_ingress_.meta.creation_timestamp = "9999-12-31T23:59:59Z";
  model::IngressBackend& backend = global_default_backend_.emplace();
  // ingress-nginx's default backend is the Service's first port.
  backend.service = model::IngressServiceBackend{key.substr(slash + 1),
                                                 model::ServiceBackendPort{service->second.ports.front().port, ""}};
  global_default_.emplace(ServedIngress{&global_default_ingress_, {}, {}, {}, {}});
  global_default_->annotations = annotations::Parse({}).values;
  return &*global_default_;
}

std::optional<std::string> Translator::GlobalDefaultCluster() {
  const ServedIngress* served = GlobalDefault();
  if (served == nullptr) return std::nullopt;
  WarningSink unused;  // the stand-in is no Ingress: AddGlobalDefaultBackend reports its problems
  ResolvedBackend resolved = backends_.Resolve(*served->ingress, *global_default_backend_, {}, unused);
  if (resolved.unresolved || !backends_.HasEndpoints(resolved.cluster)) return std::nullopt;
  return std::move(resolved.cluster);
}

void Translator::AddGlobalDefaultBackend() {
  const ServedIngress* served = GlobalDefault();
  if (served == nullptr) return;
  std::set<std::string> hosts{""};
  std::set<std::string> served_root;  // hosts with a route for every path already
  std::set<std::string> passed_through;
  for (const PendingRoute& pending : routes_) {
    hosts.insert(pending.host);
    const pier::v1::PathMatch& match = pending.route.match();
    if (match.path() == "/" && match.type() != pier::v1::PathMatch::EXACT) served_root.insert(pending.host);
    if (pending.owner->annotations.ssl_passthrough) passed_through.insert(pending.host);
  }
  // The stand-in is no Ingress to put Events on: what Resolve reports goes into one log line.
  WarningSink problems;
  std::swap(problems, warnings_);
  for (const std::string& host : hosts) {
    // A passed-through host keeps the routes of the Ingress that passes it through only.
    if (served_root.contains(host) || passed_through.contains(host)) continue;
    AddRoute(*served, host, pier::v1::PathMatch::PREFIX, "/", *global_default_backend_,
             host.empty() ? "default-backend" : "default-backend " + host, true);
  }
  std::swap(problems, warnings_);
  for (const Warning& warning : problems.Take()) {
    if (!default_backend_problem_.empty()) default_backend_problem_ += "; ";
    default_backend_problem_ += "default backend service " + options_.default_backend_service + ": " + warning.message;
  }
}

void Translator::AddRoute(const ServedIngress& served, const std::string& host, pier::v1::PathMatch::Type type,
                          const std::string& path, const model::IngressBackend& backend, std::string name,
                          bool is_default) {
  const model::Ingress& ingress = *served.ingress;
  const bool exact = type == pier::v1::PathMatch::EXACT;
  const bool regex = type == pier::v1::PathMatch::REGEX;
  const std::string normalized(exact || regex ? std::string_view(path) : match::NormalizePrefix(path));
  ClaimKey key{host, static_cast<int>(type), normalized};
  const char* kind = exact ? "Exact" : (regex ? "Regex" : "Prefix");

  if (const auto claim = claims_.find(key); claim != claims_.end()) {
    // A default backend yields silently to any rule; it is the lowest precedence by design.
    if (is_default && explicit_claims_.count(key) > 0) return;
    if (claim->second != &served) {
      const model::Ingress& winner = *claim->second->ingress;
      warnings_.Add(ingress, "ConflictingPath",
                    std::string(kind) + " path " + normalized + " on host \"" + host +
                        "\" is already served by the older ingress " + model::KeyOf(winner.meta));
    } else {
      warnings_.Add(ingress, "ConflictingPath",
                    std::string(kind) + " path " + normalized + " on host \"" + host +
                        "\" appears twice in this ingress; the first one is used");
    }
    return;
  }
  claims_.emplace(key, &served);
  claimed_routes_.emplace(key, routes_.size());
  if (!is_default) explicit_claims_.insert(key);

  PendingRoute& pending = routes_.emplace_back(PendingRoute{host, &served, {}});
  pier::v1::Route& route = pending.route;
  route.set_name(std::move(name));
  route.mutable_ingress()->set_namespace_(ingress.meta.namespace_);
  route.mutable_ingress()->set_name(ingress.meta.name);
  route.mutable_match()->set_type(type);
  route.mutable_match()->set_path(normalized);

  std::optional<Unresolved> unavailable = served.backend_tls.failure;
  if (unavailable) {
    // No cluster: nothing may be proxied without the verification the user asked for.
    if (backend.service) route.set_service(backend.service->name);
  } else {
    ResolvedBackend resolved =
        backends_.Resolve(ingress, backend, served.backend_tls.settings, warnings_, served.annotations.service_upstream);
    route.set_cluster(resolved.cluster);
    route.set_service(resolved.service);
    unavailable = std::move(resolved.unresolved);
    // The route keeps its own Service's name (labels, websocket-services): only the endpoints
    // come from the default backend, until its own Service has ready ones again.
    if (!served.annotations.default_backend.empty() && (unavailable || !backends_.HasEndpoints(resolved.cluster))) {
      if (auto fallback = DefaultBackendCluster(served)) {
        route.set_cluster(std::move(*fallback));
        unavailable.reset();
      }
    }
  }
  AddCustomHttpErrors(served, backend, route);
  if (unavailable) {
    route.mutable_unavailable()->set_status(unavailable->status);
    route.mutable_unavailable()->set_reason(unavailable->reason);
  }
  ApplyPolicy(served.annotations, tls_.HasTls(host), route);
  if (served.basic_auth.settings.enabled()) *route.mutable_basic_auth() = served.basic_auth.settings;
  ExternalAuthChoice external_auth = ResolveExternalAuth(served.annotations, host);
  if (external_auth.failure) {
    warnings_.Add(ingress, "InvalidAnnotation", external_auth.failure->reason + "; the route answers 503",
                  annotations::WrittenKey(ingress.meta.annotations, "auth-url"));
    route.clear_cluster();
    route.clear_route_redirect();
    route.mutable_unavailable()->set_status(external_auth.failure->status);
    route.mutable_unavailable()->set_reason(external_auth.failure->reason);
  } else if (!external_auth.settings.url().empty()) {
    *route.mutable_external_auth() = std::move(external_auth.settings);
  }
}

std::optional<std::string> Translator::DefaultBackendCluster(const ServedIngress& served) {
  const model::Ingress& ingress = *served.ingress;
  const std::string& name = served.annotations.default_backend;
  const auto it = state_.services.find(ingress.meta.namespace_ + "/" + name);
  if (it == state_.services.end() || it->second.ports.empty()) {
    warnings_.Add(ingress, "MissingService",
                  "default-backend service " + ingress.meta.namespace_ + "/" + name +
                      (it == state_.services.end() ? " not found" : " has no ports"),
                  annotations::WrittenKey(ingress.meta.annotations, "default-backend"));
    return std::nullopt;
  }
  model::IngressBackend backend;
  backend.service = model::IngressServiceBackend{name, model::ServiceBackendPort{it->second.ports.front().port, ""}};
  ResolvedBackend resolved =
      backends_.Resolve(ingress, backend, served.backend_tls.settings, warnings_, served.annotations.service_upstream);
  if (resolved.unresolved || !backends_.HasEndpoints(resolved.cluster)) return std::nullopt;
  return std::move(resolved.cluster);
}

void Translator::AddCustomHttpErrors(const ServedIngress& served, const model::IngressBackend& backend,
                                     pier::v1::Route& route) {
  const annotations::IngressAnnotations& values = served.annotations;
  if (values.custom_http_errors.empty()) return;
  const model::Ingress& ingress = *served.ingress;
  if (values.default_backend.empty() && options_.default_backend_service.empty()) {
    warnings_.Add(ingress, "InvalidAnnotation",
                  "custom-http-errors needs default-backend or the controller's --default-backend-service; the "
                  "backend's own error responses are served",
                  annotations::WrittenKey(ingress.meta.annotations, "custom-http-errors"));
    return;
  }
  if (served.backend_tls.failure) return;  // nothing of this Ingress is proxied
  // The Ingress' default-backend, else the controller's (as ingress-nginx).
  auto cluster = values.default_backend.empty() ? GlobalDefaultCluster() : DefaultBackendCluster(served);
  if (!cluster) return;
  pier::v1::CustomHttpErrors& errors = *route.mutable_custom_http_errors();
  for (uint32_t code : values.custom_http_errors) errors.add_codes(code);
  errors.set_cluster(std::move(*cluster));
  if (backend.service) {
    const model::ServiceBackendPort& port = backend.service->port;
    errors.set_service_port(port.number ? std::to_string(*port.number) : port.name);
  }
}

void Translator::AddCanary(const ServedIngress& served, const std::string& host, bool exact, const std::string& path,
                           const model::IngressBackend& backend, std::string name) {
  const model::Ingress& ingress = *served.ingress;
  // The main route: same host and path, whatever the main Ingress made of the path (a regex
  // when it uses use-regex).
  std::vector<ClaimKey> keys;
  if (exact) {
    keys.emplace_back(host, pier::v1::PathMatch::EXACT, path);
  } else {
    keys.emplace_back(host, pier::v1::PathMatch::PREFIX, std::string(match::NormalizePrefix(path)));
    keys.emplace_back(host, pier::v1::PathMatch::REGEX, path);
  }
  std::optional<std::size_t> main;
  for (const ClaimKey& key : keys) {
    if (auto it = claimed_routes_.find(key); it != claimed_routes_.end()) {
      main = it->second;
      break;
    }
  }
  if (!main) {
    warnings_.Add(ingress, "CanaryWithoutMain",
                  "canary path " + path + " on host \"" + host +
                      "\" is not served by any non-canary ingress; the canary path is not served");
    return;
  }
  if (const auto taken = canaries_.find(*main); taken != canaries_.end()) {
    warnings_.Add(ingress, "ConflictingCanary",
                  "path " + path + " on host \"" + host + "\" already has the older canary ingress " +
                      model::KeyOf(taken->second->ingress->meta) + "; this canary path is not served");
    return;
  }
  canaries_.emplace(*main, &served);

  // The main route's policy with the canary's backend, balancing and affinity.
  const ServedIngress& owner = *routes_[*main].owner;
  pier::v1::Route canary = routes_[*main].route;
  canary.clear_canary();
  canary.set_name(name);
  canary.mutable_ingress()->set_namespace_(ingress.meta.namespace_);
  canary.mutable_ingress()->set_name(ingress.meta.name);
  canary.set_is_canary(true);
  canary.clear_cluster();
  canary.clear_service();
  canary.clear_unavailable();
  std::optional<Unresolved> unavailable = owner.backend_tls.failure;
  if (!unavailable) {
    ResolvedBackend resolved =
        backends_.Resolve(ingress, backend, owner.backend_tls.settings, warnings_, owner.annotations.service_upstream);
    canary.set_cluster(resolved.cluster);
    canary.set_service(resolved.service);
    unavailable = std::move(resolved.unresolved);
  } else if (backend.service) {
    canary.set_service(backend.service->name);
  }
  if (unavailable) {
    canary.mutable_unavailable()->set_status(unavailable->status);
    canary.mutable_unavailable()->set_reason(unavailable->reason);
  } else if (served.annotations.fail_closed) {
    canary.mutable_unavailable()->set_status(served.annotations.fail_closed->status);
    canary.mutable_unavailable()->set_reason(served.annotations.fail_closed->reason);
  } else if (owner.annotations.fail_closed) {
    // The main Ingress' policy failed closed, and the canary runs under that policy.
    canary.mutable_unavailable()->set_status(owner.annotations.fail_closed->status);
    canary.mutable_unavailable()->set_reason(owner.annotations.fail_closed->reason);
  } else if (auto external_auth = ResolveExternalAuth(owner.annotations, host); external_auth.failure) {
    // The main route's auth-url could not be used for this host: neither route is served.
    canary.mutable_unavailable()->set_status(external_auth.failure->status);
    canary.mutable_unavailable()->set_reason(external_auth.failure->reason);
  }
  ApplyCanaryBalancing(served.annotations, canary);
  ApplyCanaryRules(served.annotations, owner.annotations, canary.name(), routes_[*main].route);
  routes_.push_back(PendingRoute{host, &served, std::move(canary)});
}

void Translator::Assemble(Output& out) {
  pier::v1::Snapshot& snapshot = out.snapshot;
  *snapshot.mutable_defaults() = options_.defaults;

  std::map<std::string, std::vector<PendingRoute*>> by_host;
  for (PendingRoute& pending : routes_) by_host[pending.host].push_back(&pending);
  for (auto& [host, routes] : by_host) {
    std::sort(routes.begin(), routes.end(), [](const PendingRoute* a, const PendingRoute* b) {
      const auto& ma = a->route.match();
      const auto& mb = b->route.match();
      const int order = match::ComparePrecedence(
          {ma.type() == pier::v1::PathMatch::EXACT, ma.path(), ma.type() == pier::v1::PathMatch::REGEX},
          {mb.type() == pier::v1::PathMatch::EXACT, mb.path(), mb.type() == pier::v1::PathMatch::REGEX});
      if (order != 0) return order < 0;
      if (a->owner != b->owner) return Older(a->owner->ingress, b->owner->ingress);
      return a->route.name() < b->route.name();
    });
    pier::v1::VirtualHost& vhost = *snapshot.add_virtual_hosts();
    vhost.set_host(host);
    vhost.set_tls_certificate(tls_.CertificateFor(host));
    ApplyClientAuth(host, routes, vhost);
    ApplyCiphers(host, routes, vhost);
    ApplyPassthrough(host, routes, vhost);
    for (PendingRoute* pending : routes) *vhost.add_routes() = std::move(pending->route);
  }
  for (pier::v1::Cluster& cluster : backends_.TakeClusters()) *snapshot.add_clusters() = std::move(cluster);
  tls_.Finish(out);
}

void Translator::ApplyClientAuth(const std::string& host, const std::vector<PendingRoute*>& routes,
                                 pier::v1::VirtualHost& vhost) {
  const ServedIngress* chosen = nullptr;
  for (const PendingRoute* pending : routes) {
    const ServedIngress* owner = pending->owner;
    if (owner->client_auth.wanted() && (chosen == nullptr || Older(owner->ingress, chosen->ingress))) chosen = owner;
  }
  if (chosen == nullptr) return;
  for (const PendingRoute* pending : routes) {
    const ServedIngress* owner = pending->owner;
    if (owner == chosen || !owner->client_auth.wanted() || SameClientAuth(owner->client_auth, chosen->client_auth)) {
      continue;
    }
    warnings_.Add(*owner->ingress, "ConflictingClientAuth",
                  "host \"" + host + "\" verifies client certificates as the older ingress " +
                      model::KeyOf(chosen->ingress->meta) +
                      " says; this Ingress' auth-tls-* settings do not apply to it",
                  annotations::WrittenKey(owner->ingress->meta.annotations, "auth-tls-secret"));
  }
  if (const auto& failure = chosen->client_auth.failure) {
    // Every route of the host, whichever Ingress it comes from: the host was meant to be closed
    // to clients without a certificate.
    for (PendingRoute* pending : routes) {
      pending->route.mutable_unavailable()->set_status(failure->status);
      pending->route.mutable_unavailable()->set_reason(failure->reason);
    }
    return;
  }
  *vhost.mutable_client_auth() = *chosen->client_auth.settings;
}

// ssl-ciphers and ssl-prefer-server-ciphers belong to the handshake, which knows the host (SNI)
// and not the path: the oldest Ingress of the host that sets either decides both for all of the
// host's paths. A canary runs under its main Ingress' TLS.
void Translator::ApplyCiphers(const std::string& host, const std::vector<PendingRoute*>& routes,
                              pier::v1::VirtualHost& vhost) {
  auto sets = [](const PendingRoute* pending) {
    const auto& values = pending->owner->annotations;
    return !pending->route.is_canary() && (!values.ssl_ciphers.empty() || values.ssl_prefer_server_ciphers);
  };
  const ServedIngress* chosen = nullptr;
  for (const PendingRoute* pending : routes) {
    if (sets(pending) && (chosen == nullptr || Older(pending->owner->ingress, chosen->ingress))) chosen = pending->owner;
  }
  if (chosen == nullptr) return;
  const auto& decided = chosen->annotations;
  vhost.set_ciphers(decided.ssl_ciphers);
  vhost.set_prefer_server_ciphers(decided.ssl_prefer_server_ciphers.value_or(false));
  std::set<const ServedIngress*> warned;
  for (const PendingRoute* pending : routes) {
    const ServedIngress* owner = pending->owner;
    const auto& values = owner->annotations;
    if (owner == chosen || !sets(pending) ||
        (values.ssl_ciphers == decided.ssl_ciphers &&
         values.ssl_prefer_server_ciphers.value_or(false) == decided.ssl_prefer_server_ciphers.value_or(false)) ||
        !warned.insert(owner).second) {
      continue;
    }
    const char* key = values.ssl_ciphers.empty() ? "ssl-prefer-server-ciphers" : "ssl-ciphers";
    warnings_.Add(*owner->ingress, "ConflictingSslCiphers",
                  "host \"" + host + "\" uses the TLS cipher settings the older ingress " +
                      model::KeyOf(chosen->ingress->meta) + " sets; this Ingress' " + key + " does not apply to it",
                  annotations::WrittenKey(owner->ingress->meta.annotations, key));
  }
}

void Translator::ApplyPassthrough(const std::string& host, const std::vector<PendingRoute*>& routes,
                                  pier::v1::VirtualHost& vhost) {
  const ServedIngress* oldest = nullptr;
  const ServedIngress* wanting = nullptr;
  for (const PendingRoute* pending : routes) {
    const ServedIngress* owner = pending->owner;
    if (pending->route.is_canary()) continue;  // a canary runs under its main Ingress
    if (oldest == nullptr || Older(owner->ingress, oldest->ingress)) oldest = owner;
    if (owner->annotations.ssl_passthrough && (wanting == nullptr || Older(owner->ingress, wanting->ingress))) {
      wanting = owner;
    }
  }
  if (wanting == nullptr) return;
  const model::Ingress& ingress = *wanting->ingress;
  const std::string key = annotations::WrittenKey(ingress.meta.annotations, "ssl-passthrough");
  if (host.empty()) {
    warnings_.Add(ingress, "InvalidAnnotation",
                  "ssl-passthrough: a rule without host cannot be chosen by a ClientHello; TLS for it ends at Pier", key);
    return;
  }
  if (oldest != wanting) {
    // Passing the host through would take its TLS, and with it every path, from the older one.
    warnings_.Add(ingress, "ConflictingPassthrough",
                  "host \"" + host + "\" is served by the older ingress " + model::KeyOf(oldest->ingress->meta) +
                      ", which does not pass TLS through; ssl-passthrough does not apply to it",
                  key);
    return;
  }
  // The path "/": a Prefix (or ImplementationSpecific, or the Ingress' default backend), a regex
  // "/" (use-regex), else an Exact one.
  const PendingRoute* target = nullptr;
  int best = 0;
  for (const PendingRoute* pending : routes) {
    if (pending->owner != wanting || pending->route.is_canary() || pending->route.match().path() != "/") continue;
    const auto type = pending->route.match().type();
    const int rank = type == pier::v1::PathMatch::PREFIX ? 3 : type == pier::v1::PathMatch::REGEX ? 2 : 1;
    if (rank > best) {
      best = rank;
      target = pending;
    }
  }
  if (target == nullptr) {
    warnings_.Add(ingress, "InvalidAnnotation",
                  "ssl-passthrough: host \"" + host +
                      "\" has no path \"/\" (or defaultBackend) in this Ingress to pass TLS to; TLS for it ends at Pier",
                  key);
    return;
  }
  vhost.mutable_passthrough()->set_route(target->route.name());
  for (const PendingRoute* pending : routes) {
    if (pending->owner == wanting) continue;
    warnings_.Add(*pending->owner->ingress, "PassthroughHost",
                  "host \"" + host + "\" passes TLS through to the backend of ingress " + model::KeyOf(ingress.meta) +
                      "; this Ingress' paths for it are served over plain HTTP only");
  }
}

}  // namespace

Output Translate(const model::ClusterState& state, const Options& options, const BuildContext& context) {
  return Translator(state, options, context).Run();
}

}  // namespace pier::translate
