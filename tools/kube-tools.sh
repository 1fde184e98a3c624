#!/usr/bin/env bash
# Builds and caches the real Kubernetes binaries the end-to-end tests run:
# kube-apiserver, kubectl (from the k8s.io/kubernetes Go module) and helm.
#
# Usage:
#   tools/kube-tools.sh [ensure]   build whatever is missing, then print the bin dir
#   tools/kube-tools.sh path       print the bin dir if everything is cached, else fail
#   tools/kube-tools.sh etcd       also build etcd (from now on), then print the bin dir
#   tools/kube-tools.sh versions   print the pinned versions
#
# The bin directory is always the last line on stdout; build chatter goes to stderr.
# Cache: ${PIER_CACHE:-$HOME/.cache/pier}/kube/<kube version>/bin. Only the first run
# pays the build (many minutes on 2 cores); later runs return at once.
#
# Why a throwaway module: k8s.io/kubernetes requires its ~30 staging modules at v0.0.0
# and replaces them with paths into its own tree, so `go install ...@version` refuses
# it. We require k8s.io/kubernetes and replace each staging module with its published
# v0.Y.Z, taking the list from that version's real go.mod rather than a stale copy.
set -euo pipefail

# Pinned versions. The Kubernetes go.mod `go` line must be accepted by the local Go.
readonly KUBE_VERSION="v1.34.4"   # go.mod: go 1.24.0
readonly HELM_VERSION="v3.19.5"   # go.mod: go 1.24.0, k8s.io/* v0.34.x, no replace lines
# Debian's etcd-server (3.4.23) works with this kube-apiserver (it only turns off
# RequestWatchProgress, so consistent lists are not served from the watch cache). This
# pin, the etcd Kubernetes 1.34 ships with, is built only on request
# (`tools/kube-tools.sh etcd`), and the harness then prefers it.
readonly ETCD_VERSION="v3.6.4"

readonly BUILD_PARALLELISM="${PIER_BUILD_PARALLELISM:-2}"

cache_root="${PIER_CACHE:-$HOME/.cache/pier}"
version_dir="$cache_root/kube/$KUBE_VERSION"
bin_dir="$version_dir/bin"

log() { printf 'kube-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    die "no Go toolchain found (looked in PATH and /usr/local/go/bin)"
  fi
}

# A binary counts as cached only together with a stamp naming the version it was
# built from, so bumping a pin above rebuilds just that binary.
is_cached() { # name version
  [[ -x "$bin_dir/$1" && -f "$bin_dir/.$1.version" && "$(<"$bin_dir/.$1.version")" == "$2" ]]
}

install_binary() { # built-file name version
  install -m 0755 "$1" "$bin_dir/.$2.tmp"
  mv -f "$bin_dir/.$2.tmp" "$bin_dir/$2"
  printf '%s\n' "$3" >"$bin_dir/.$2.version"
}

want_etcd() { [[ -f "$version_dir/want-etcd" ]]; }

all_cached() {
  is_cached kube-apiserver "$KUBE_VERSION" && is_cached kubectl "$KUBE_VERSION" \
    && is_cached helm "$HELM_VERSION" && { ! want_etcd || is_cached etcd "$ETCD_VERSION"; }
}

go_env() {
  # Default GOPATH/GOMODCACHE on purpose: the module cache is shared with other builds.
  env GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 "$@"
}

# Prints the "module => module version" replace lines for every staging module that
# the given k8s.io/kubernetes version's go.mod points into ./staging.
staging_replaces() { # go.mod-path staging-version
  local line module
  while IFS= read -r line; do
    # Both `replace k8s.io/x => ./staging/...` and lines inside a replace ( ) block.
    if [[ "$line" =~ ^[[:space:]]*(replace[[:space:]]+)?(k8s\.io/[A-Za-z0-9._/-]+)[[:space:]]+=\>[[:space:]]+\./staging/ ]]; then
      module="${BASH_REMATCH[2]}"
      printf '\t%s => %s %s\n' "$module" "$module" "$2"
    fi
  done <"$1"
}

build_kube() {
  local go="$1" work="$2"
  local mod_json gomod go_line staging_version replaces ldflags pkg
  log "building kube-apiserver and kubectl $KUBE_VERSION (first build takes many minutes)"
  mod_json="$(go_env "$go" mod download -json "k8s.io/kubernetes@$KUBE_VERSION")"
  gomod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$mod_json")"
  [[ -f "$gomod" ]] || die "go mod download gave no GoMod for k8s.io/kubernetes@$KUBE_VERSION"
  go_line="$(awk '$1 == "go" { print $2; exit }' "$gomod")"
  staging_version="v0.${KUBE_VERSION#v1.}"
  replaces="$(staging_replaces "$gomod" "$staging_version")"
  [[ -n "$replaces" ]] || die "found no staging replace lines in $gomod"
  log "k8s.io/kubernetes $KUBE_VERSION: go $go_line, $(wc -l <<<"$replaces") staging modules at $staging_version"

  mkdir -p "$work/kube"
  cat >"$work/kube/go.mod" <<EOF
module pier.local/kubetools

go $go_line

require k8s.io/kubernetes $KUBE_VERSION

replace (
$replaces
)
EOF
  # Version stamps as the upstream build sets them (hack/lib/version.sh), so
  # `kubectl version` and /version tell the truth.
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$work/kube" && go_env "$go" build -p "$BUILD_PARALLELISM" -trimpath -ldflags "$ldflags" \
      -o "$work/kube/out/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl) >&2
  install_binary "$work/kube/out/kube-apiserver" kube-apiserver "$KUBE_VERSION"
  install_binary "$work/kube/out/kubectl" kubectl "$KUBE_VERSION"
}

build_helm() {
  local go="$1" work="$2"
  log "building helm $HELM_VERSION"
  mkdir -p "$work/helm"
  # GOBIN points into the work dir; the binary is moved into the cache only when whole.
  go_env GOBIN="$work/helm" "$go" install -p "$BUILD_PARALLELISM" -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  install_binary "$work/helm/helm" helm "$HELM_VERSION"
}

build_etcd() {
  local go="$1" work="$2"
  log "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd"
  # Its go.mod replaces sibling modules with ../paths, so `go install @version` refuses
  # it. Unlike Kubernetes it requires them at real versions, and a dependency's replace
  # lines are ignored, so a throwaway module needs only the require.
  printf 'module pier.local/etcdtools\n\ngo 1.23.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$ETCD_VERSION" >"$work/etcd/go.mod"
  (cd "$work/etcd" && go_env "$go" build -p "$BUILD_PARALLELISM" -trimpath -ldflags "-s -w" \
      -o "$work/etcd/etcd" go.etcd.io/etcd/server/v3) >&2
  install_binary "$work/etcd/etcd" etcd "$ETCD_VERSION"
}

ensure() {
  local go work lock_fd
  mkdir -p "$bin_dir"
  # One builder at a time: a second caller waits, then finds everything cached.
  exec {lock_fd}>"$version_dir/.lock"
  flock "$lock_fd"
  if all_cached; then
    return
  fi
  go="$(find_go)"
  work="$(mktemp -d "${TMPDIR:-/tmp}/pier-kube-tools.XXXXXX")"
  # shellcheck disable=SC2064 # expand $work now
  trap "rm -rf '$work'" EXIT
  local started=$SECONDS
  if ! is_cached kube-apiserver "$KUBE_VERSION" || ! is_cached kubectl "$KUBE_VERSION"; then
    build_kube "$go" "$work"
  fi
  if ! is_cached helm "$HELM_VERSION"; then build_helm "$go" "$work"; fi
  if want_etcd && ! is_cached etcd "$ETCD_VERSION"; then build_etcd "$go" "$work"; fi
  log "built in $((SECONDS - started)) s into $bin_dir"
}

main() {
  local command="${1:-ensure}"
  case "$command" in
    ensure)
      ensure
      ;;
    path)
      all_cached || die "binaries for $KUBE_VERSION not cached in $bin_dir; run: $0 ensure"
      ;;
    etcd)
      mkdir -p "$version_dir"
      : >"$version_dir/want-etcd"
      ensure
      ;;
    versions)
      printf 'kubernetes %s\nhelm %s\netcd %s\n' "$KUBE_VERSION" "$HELM_VERSION" "$ETCD_VERSION"
      return
      ;;
    *)
      die "unknown command '$command' (ensure | path | etcd | versions)"
      ;;
  esac
  printf '%s\n' "$bin_dir"
}

main "$@"
