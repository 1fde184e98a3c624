// The dataplane's view of one snapshot: validated and compiled once when it arrives, then shared
// read-only by every connection on every thread. Routes and clusters are individually
// reference-counted so a long-lived tunnel keeps only its own route alive, not a whole old
// snapshot.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/basic_auth.h"
#include "auth/external_auth.h"
#include "pier/common/cidr.h"
#include "pier/common/path_regex.h"
#include "pier/common/result.h"
#include "pier/v1/snapshot.pb.h"
#include "routing/snapshot_wire.h"
#include "tls/certificate_set.h"
#include "tls/client_auth.h"
#include "tls/upstream_context.h"

namespace pier::dataplane {

struct UpstreamEndpoint {
  boost::asio::ip::tcp::endpoint address;
  uint32_t weight = 1;
  bool fallback = false;
  std::string id;  // "address:port" ("[v6]:port"), stable across snapshots
};

struct ClusterConfig {
  std::string name;  // "namespace/service:port"
  std::string service_namespace;
  std::string service_name;
  std::vector<UpstreamEndpoint> endpoints;
  pier::v1::BackendTls backend_tls;
  tls::UpstreamTls upstream_tls;  // context null when backend_tls is off
  // The v1::Cluster's bytes as received: identical bytes in the next snapshot reuse this object
  // instead of compiling it again.
  std::string source;
};

// proxy-next-upstream*: the failures after which a request may go to another endpoint (see
// pier.v1.NextUpstream). The defaults are ingress-nginx's, for a route without the setting.
struct NextUpstreamPolicy {
  bool error = true;
  bool timeout = true;
  bool invalid_header = false;
  bool non_idempotent = false;
  std::vector<uint32_t> statuses;  // sorted
  uint32_t tries = 3;              // 0: as many as the endpoints
  std::chrono::milliseconds time_limit{0};  // 0: none

  bool RetriesStatus(uint32_t status) const { return std::binary_search(statuses.begin(), statuses.end(), status); }
};

// One route with every default resolved, so the per-request code never looks at Defaults.
struct RouteConfig {
  std::string name;
  std::string ingress_namespace;
  std::string ingress_name;
  std::string service;
  pier::v1::PathMatch::Type match_type = pier::v1::PathMatch::PREFIX;
  // The route's virtual host passes TLS through (ssl-passthrough): a request for it on a TLS
  // connection the dataplane terminated (no SNI, or another one) is 421.
  bool passthrough_host = false;
  std::string path;  // normalised: PREFIX paths without trailing "/" (except "/")
  std::optional<match::PathRegex> regex;  // REGEX routes: `path` compiled

  // canary-*: the route of the same virtual host some requests go to instead (proto.canary has
  // the rules); null: none. A canary route (is_canary) is never matched on its own.
  std::shared_ptr<const RouteConfig> canary;
  std::optional<match::PathRegex> canary_header_pattern;
  bool is_canary = false;

  // auth-type basic: the users a request must authenticate as; null: no authentication.
  std::shared_ptr<const basic_auth::Users> basic_auth;
  // auth-url: the auth service every request is first checked with; null: none.
  std::shared_ptr<const external_auth::Settings> external_auth;
  // auth-tls-*: the client-certificate policy of the route's virtual host (the same object for
  // every route of it); null: the host asks for no client certificate.
  std::shared_ptr<const tls::ClientAuthPolicy> client_auth;
  // ssl-ciphers: the session ID context of handshakes made under the route's host's own cipher
  // list (VirtualHostConfig::session_context); a request over TLS whose handshake was not made
  // under it (another host's SNI) is 421. nullopt: the host has no list of its own.
  std::optional<std::array<unsigned char, 32>> cipher_context;

  // custom-http-errors: a backend response with one of these statuses (sorted) is replaced by
  // what `error_route` answers: the same route on the error pages' cluster, without affinity,
  // hashing, canary or authentication. Empty and null: none.
  std::vector<uint32_t> error_codes;
  std::shared_ptr<const RouteConfig> error_route;

  std::shared_ptr<const ClusterConfig> cluster;  // null when unavailable or unresolved
  uint32_t unavailable_status = 0;              // non-zero: fail closed with this status
  std::string unavailable_reason;
  // Non-empty: the route carried a field this dataplane does not know ("field 25 of
  // pier.v1.Route"), so it fails closed with 503 instead of being served without it.
  std::string unknown_field;

  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{60000};
  std::chrono::milliseconds send_timeout{60000};
  std::chrono::milliseconds websocket_idle_timeout{3600000};
  bool websocket_enabled = true;
  std::string websocket_disabled_reason;
  uint64_t max_body_bytes = 1 << 20;  // 0 = unlimited
  uint32_t buffer_bytes = 16 * 1024;
  NextUpstreamPolicy next_upstream;

  // proto.access and proto.limits.exempt_cidrs, parsed once here.
  CidrSet allow_sources;  // empty = everyone (subject to deny_sources)
  CidrSet deny_sources;
  CidrSet limit_exempt_sources;

  // Everything else (limits, affinity, access, redirects...) as the controller sent it.
  pier::v1::Route proto;
};

struct VirtualHostConfig {
  std::string host;  // lowercase; "" = any; "*.a.b" = one label wildcard
  std::vector<std::shared_ptr<const RouteConfig>> routes;  // precedence order; canary routes too
  std::string tls_certificate;
  // The v1::VirtualHost's bytes as received (see ClusterConfig::source).
  std::string source;
  // client_auth compiled; null: none. What a handshake naming this host asks for.
  std::shared_ptr<const tls::ClientAuthPolicy> client_auth;
  // ssl-passthrough: the route (one of `routes`) whose endpoints get this host's TLS
  // connections unread; null: TLS for the host ends here.
  std::shared_ptr<const RouteConfig> passthrough;
  // ssl-ciphers: the TLS 1.2 cipher list of a handshake naming this host; "": the listener's.
  std::string ciphers;
  // With `ciphers`: the TLS session ID context of those handshakes (a digest of the list and of
  // the client-certificate policy), so a session is only resumed under the same list and policy.
  std::array<unsigned char, 32> session_context{};
  // ssl-prefer-server-ciphers: the server's order decides among the ciphers both sides offer.
  bool prefer_server_ciphers = false;
};

// The values a route gets when neither the route nor the snapshot's Defaults set one. The
// built-in values are the documented ones; the dataplane's --default-* flags replace them.
struct BuildOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{60000};
  std::chrono::milliseconds send_timeout{60000};
  std::chrono::milliseconds websocket_idle_timeout{3600000};
  uint64_t max_body_bytes = 1 << 20;  // 0 = unlimited
  uint32_t buffer_bytes = 16 * 1024;

  bool operator==(const BuildOptions&) const = default;
};

class Config final {
 public:
  // Validates the whole snapshot (references resolve, addresses parse, paths well-formed,
  // statuses sane) and compiles it. An invalid snapshot is an error naming what is wrong.
  // A route field left 0 takes the snapshot's Defaults, and a Defaults field left 0 takes
  // `options`.
  //
  // With `previous` (the config in use), a cluster or virtual host whose bytes are the same as
  // there is taken over without being parsed or compiled again, so the cost of a snapshot
  // follows what changed; validation of the whole snapshot and the result are the same as
  // without it.
  static Result<std::shared_ptr<const Config>> Build(const SnapshotParts& snapshot, const BuildOptions& options = {},
                                                     const Config* previous = nullptr);
  // The same from a parsed message (serialised, then split).
  static Result<std::shared_ptr<const Config>> Build(const pier::v1::Snapshot& snapshot,
                                                     const BuildOptions& options = {},
                                                     const Config* previous = nullptr);

  uint64_t version() const noexcept { return version_; }
  const std::string& controller_instance() const noexcept { return controller_instance_; }

  // host: the Host header as received (port and case ignored). path: the request target's
  // path (no query). Exact host wins over a wildcard, wildcard over the catch-all "" host;
  // within a host the first matching route in precedence order wins. Null: no route (404).
  // The path is compared as received, percent-encoding included ("/a%2Fb" is one element and
  // "/%66oo" is not "/foo"), as the Ingress spec leaves decoding to the implementation and
  // decoding here would let a request reach a route its raw form does not name. Allocates
  // nothing for an already-lowercase Host without a port.
  std::shared_ptr<const RouteConfig> Match(std::string_view host, std::string_view path) const;

  // The virtual host Match would use for this Host header (or SNI name); null when none.
  const VirtualHostConfig* FindHost(std::string_view host) const;
  const std::vector<std::shared_ptr<const ClusterConfig>>& clusters() const noexcept { return clusters_; }
  // Calls visit(const RouteConfig&) for every route of every virtual host.
  template <class Visit>
  void ForEachRoute(Visit&& visit) const {
    auto hosts = [&](const VirtualHostConfig& host) {
      for (const auto& route : host.routes) visit(*route);
    };
    for (const auto& host : exact_hosts_) hosts(host);
    for (const auto& host : wildcard_hosts_) hosts(host);
    if (catch_all_) hosts(*catch_all_);
  }
  std::size_t host_count() const noexcept {
    return exact_hosts_.size() + wildcard_hosts_.size() + (catch_all_ ? 1 : 0);
  }
  // Some virtual host passes TLS through: TLS connections are read up to the end of their
  // ClientHello before the handshake, to see which host they name.
  bool has_passthrough() const noexcept { return has_passthrough_; }

  // The snapshot's certificates as server contexts, and the SNI lookup over them.
  const tls::CertificateSet& certificates() const noexcept { return *certificates_; }

 private:
  Config() = default;
  // host: already normalised.
  const VirtualHostConfig* FindNormalizedHost(std::string_view host) const noexcept;
  // The virtual host compiled under exactly this name ("" and "*.a.b" included); null if none.
  const VirtualHostConfig* FindCompiledHost(std::string_view host) const noexcept;

  uint64_t version_ = 0;
  std::string controller_instance_;
  BuildOptions options_;
  std::string defaults_source_;  // the snapshot's Defaults, serialised: routes compiled with them
  std::vector<VirtualHostConfig> exact_hosts_;     // sorted by host
  std::vector<VirtualHostConfig> wildcard_hosts_;  // sorted by host, i.e. by the ".suffix" after "*"
  std::optional<VirtualHostConfig> catch_all_;
  std::vector<std::shared_ptr<const ClusterConfig>> clusters_;  // sorted by name
  std::shared_ptr<const tls::CertificateSet> certificates_;
  bool has_passthrough_ = false;
};

// The current Config, swapped atomically. Readers take a reference-counted copy per request;
// a swap never touches connections that hold an older one.
class ConfigStore final {
 public:
  std::shared_ptr<const Config> Current() const noexcept { return current_.load(std::memory_order_acquire); }
  void Swap(std::shared_ptr<const Config> next) noexcept { current_.store(std::move(next), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const Config>> current_;
};

}  // namespace pier::dataplane
