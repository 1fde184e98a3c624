#!/usr/bin/env bash
# Prints the controller's RBAC (ServiceAccount, ClusterRole, ClusterRoleBinding, and the
# leader-election Role and RoleBinding) exactly as charts/pier renders it. The chart templates
# are the one place these permissions are written down; e2e tests apply this output so they run
# the controller with the permissions a real install grants, no more.
#
# Usage: tools/render-rbac.sh [--release NAME] [--namespace NS] [HELM_ARG...]
#   --release NAME    Helm release name (default: pier -> ServiceAccount pier-controller)
#   --namespace NS    namespace of the ServiceAccount and the Role (default: pier-system)
#   HELM_ARG...       passed to `helm template`, e.g. --set controller.leaderElection.namespace=x
#
#   tools/render-rbac.sh --namespace pier-e2e | kubectl apply -f -
#
# helm comes from $HELM, else PATH, else tools/kube-tools.sh (the cached build).
set -euo pipefail

readonly REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly RBAC_TEMPLATES=(
  templates/controller-serviceaccount.yaml
  templates/controller-clusterrole.yaml
  templates/controller-clusterrolebinding.yaml
  templates/controller-role.yaml
  templates/controller-rolebinding.yaml
)

die() { printf 'render-rbac: error: %s\n' "$*" >&2; exit 1; }

find_helm() {
  if [[ -n "${HELM:-}" ]]; then echo "$HELM"; return; fi
  if command -v helm >/dev/null 2>&1; then command -v helm; return; fi
  local bin_dir
  bin_dir="$(bash "$REPO_ROOT/tools/kube-tools.sh" ensure | tail -n 1)" || die "no helm (set HELM or run tools/kube-tools.sh)"
  echo "$bin_dir/helm"
}

release=pier
namespace=pier-system
helm_args=()
while (($# > 0)); do
  case "$1" in
    --release) (($# >= 2)) || die "--release needs a value"; release="$2"; shift 2 ;;
    --namespace) (($# >= 2)) || die "--namespace needs a value"; namespace="$2"; shift 2 ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) helm_args+=("$1"); shift ;;
  esac
done

show_only=()
for template in "${RBAC_TEMPLATES[@]}"; do show_only+=(--show-only "$template"); done

"$(find_helm)" template "$release" "$REPO_ROOT/charts/pier" --namespace "$namespace" \
  "${show_only[@]}" "${helm_args[@]}"
