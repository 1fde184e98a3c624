#!/usr/bin/env bash
# Makes a private CA and the two certificates of Pier's controller<->dataplane gRPC channel
# (mutual TLS), and prints them as the Secrets deploy/pier.yaml mounts:
#   pier-grpc-controller   server certificate for the controller Service's DNS names
#   pier-grpc-dataplane    client certificate the controller accepts from dataplanes
# Each holds tls.crt, tls.key and ca.crt. The CA key is not kept: to rotate, run this again and
# restart both Deployments.
#
# Usage: deploy/grpc-certs.sh [--namespace NS] [--name FULLNAME] [--days N] [--cluster-domain D]
#   deploy/grpc-certs.sh | kubectl apply -f -
# Defaults match deploy/pier.yaml: namespace pier-system, name pier, 3650 days, cluster.local.
# Needs only openssl and base64.
set -euo pipefail

die() { printf 'grpc-certs: error: %s\n' "$*" >&2; exit 1; }
need_value() { (($# >= 2)) || die "$1 needs a value"; }

namespace=pier-system
name=pier
days=3650
cluster_domain=cluster.local
while (($# > 0)); do
  case "$1" in
    --namespace) need_value "$@"; namespace="$2"; shift 2 ;;
    --name) need_value "$@"; name="$2"; shift 2 ;;
    --days) need_value "$@"; days="$2"; shift 2 ;;
    --cluster-domain) need_value "$@"; cluster_domain="$2"; shift 2 ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ "$days" =~ ^[1-9][0-9]*$ ]] || die "--days must be a positive integer"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
umask 077

service="$name-controller"
dns_names="DNS:$service,DNS:$service.$namespace,DNS:$service.$namespace.svc,DNS:$service.$namespace.svc.$cluster_domain"

# Our own config so the system openssl.cnf adds nothing unexpected.
cat >openssl.cnf <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $dns_names
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF

quiet_openssl() {
  local output
  output="$(openssl "$@" 2>&1)" || die "openssl $1 failed: $output"
}

quiet_openssl req -config openssl.cnf -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout ca.key -out ca.crt -days "$days" -subj "/CN=$name-grpc-ca" -extensions ca
for leaf in controller:server dataplane:client; do
  component="${leaf%%:*}" extensions="${leaf##*:}"
  quiet_openssl req -config openssl.cnf -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$component.key" -out "$component.csr" -subj "/CN=$name-$component"
  quiet_openssl x509 -req -in "$component.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days "$days" -extfile openssl.cnf -extensions "$extensions" -out "$component.crt"
done

b64() { base64 -w0 <"$1"; }

for component in controller dataplane; do
  cat <<YAML
---
apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata:
  name: $name-grpc-$component
  namespace: $namespace
  labels:
    app.kubernetes.io/name: pier
    app.kubernetes.io/component: $component
data:
  tls.crt: $(b64 "$component.crt")
  tls.key: $(b64 "$component.key")
  ca.crt: $(b64 ca.crt)
YAML
done
