#!/usr/bin/env bash
# Builds the Pier image from the Dockerfile with buildah, on a machine without a container
# engine or registry access (only Debian's package mirror).
#
# Usage: tools/build-image.sh [TAG]        (default TAG: localhost/pier:<chart appVersion>)
#
# - Installs buildah and debootstrap from Debian when they are missing (needs root).
# - When no debian:bookworm image is in local storage, makes one with debootstrap (minbase) from
#   the machine's Debian mirror and tags it as both debian:bookworm and debian:bookworm-slim: the
#   runtime stage then starts from minbase instead of the registry's slim image, which has the
#   same coreutils the chart's preStop hook needs.
# - Builds with `--isolation chroot`: in sandboxes that forbid the OCI runtime's setrlimit
#   (crun: "setrlimit RLIMIT_NOFILE: Operation not permitted"), chroot isolation still works.
# - Checks the result: both binaries start and print their version inside the image.
#
# Takes 15-30 minutes on 2 cores (the build stage compiles the two binaries without a cache).
set -euo pipefail

readonly REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

die() { printf 'build-image: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'build-image: %s\n' "$*" >&2; }

app_version() {
  sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$REPO_ROOT/charts/pier/Chart.yaml"
}

ensure_tools() {
  local missing=()
  command -v buildah >/dev/null 2>&1 || missing+=(buildah)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  ((${#missing[@]} == 0)) && return
  [[ $EUID -eq 0 ]] || die "need root to install ${missing[*]}"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

ensure_base_image() {
  if buildah inspect --type image docker.io/library/debian:bookworm >/dev/null 2>&1; then
    return
  fi
  local rootfs
  rootfs="$(mktemp -d /tmp/pier-bookworm.XXXXXX)"
  log "making a debian:bookworm base with debootstrap from $MIRROR"
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
  local container mount
  container="$(buildah from scratch)"
  mount="$(buildah mount "$container")"
  tar -C "$rootfs" -c . | tar -C "$mount" -x
  buildah umount "$container" >/dev/null
  buildah commit --quiet "$container" docker.io/library/debian:bookworm >/dev/null
  buildah rm "$container" >/dev/null
  rm -rf "$rootfs"
  buildah tag docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim
}

check_image() {
  local tag="$1" container
  container="$(buildah from --pull=never "$tag")"
  local binary status=0
  for binary in pier-controller pier-dataplane; do
    printf '%s: ' "$binary"
    buildah run --isolation chroot "$container" -- "/usr/local/bin/$binary" --version || status=1
  done
  buildah rm "$container" >/dev/null
  return "$status"
}

main() {
  local tag="${1:-localhost/pier:$(app_version)}"
  ensure_tools
  ensure_base_image
  log "building $tag"
  (cd "$REPO_ROOT" && buildah bud --isolation chroot --pull=never --layers -t "$tag" .)
  check_image "$tag"
  log "built $tag"
}

main "$@"
