"""Every flag the chart passes is one the binaries take: checked against the flag list of
DESIGN.md (a contract) always, and against the real binaries' --help when they are built."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from chartlib import CI_VALUES, REPO_ROOT, args_of, find_all

# DESIGN.md, "Processes and flags".
CONTRACT_FLAGS = {
    "controller": {
        "--source", "--kubeconfig", "--manifests", "--ingress-class", "--controller-name",
        "--watch-ingress-without-class", "--namespace", "--grpc-listen", "--metrics-listen",
        "--grpc-tls-cert", "--grpc-tls-key", "--grpc-client-ca", "--grpc-insecure",
        "--publish-service", "--leader-elect", "--leader-election-namespace",
        "--leader-election-id", "--log-format", "--log-level"},
    "dataplane": {
        "--controller", "--grpc-tls-cert", "--grpc-tls-key", "--grpc-ca", "--node-id",
        "--http-listen", "--https-listen", "--admin-listen", "--threads", "--drain-timeout",
        "--default-connect-timeout", "--default-read-timeout", "--default-send-timeout",
        "--default-websocket-idle-timeout", "--trusted-proxies", "--max-header-bytes",
        "--header-timeout", "--log-format", "--log-level"},
}

# Flags the binaries take beyond DESIGN.md's list; each is documented where it is described.
EXTRA_FLAGS = {
    # docs/architecture.md ("Certificates and Secrets") and docs/migrating-from-ingress-nginx.md:
    # the certificate for unknown SNI, as ingress-nginx's --default-ssl-certificate.
    "controller": {"--default-tls-secret",
                   # docs/install.md ("Status, Events and replicas"): fixed addresses for Ingress
                   # status, as ingress-nginx's flag of the same name.
                   "--publish-status-address",
                   # docs/tls.md ("TLS passthrough"): the ssl-passthrough annotation takes
                   # effect, as with ingress-nginx's flag of the same name.
                   "--enable-ssl-passthrough",
                   # docs/flags.md: what no Ingress serves, as ingress-nginx's flag of that name.
                   "--default-backend-service"},
    # docs/tls.md ("Redirects and HSTS"): the port redirects to https:// name, which in a
    # cluster is the Service's, not the pod's listener port.
    "dataplane": {"--https-redirect-port",
                  # docs/flags.md: ingress-nginx's global proxy-body-size.
                  "--default-proxy-body-size",
                  # docs/limits.md: a cap on client connections per pod.
                  "--max-connections",
                  # docs/flags.md: behind a TCP load balancer sending PROXY protocol headers.
                  "--proxy-protocol",
                  # docs/flags.md: keepalive probes on client and upstream sockets.
                  "--tcp-keepalive",
                  # docs/flags.md: the access log off, as ingress-nginx's disable-access-log.
                  "--access-log"},
}

# Values that, together, make the chart pass every optional flag.
EVERY_FLAG = ["--set", "controller.replicas=2", "--set", "controller.watchIngressWithoutClass=true",
              "--set", "controller.watchNamespace=apps", "--set", "controller.enableSSLPassthrough=true",
              "--set", "controller.defaultTLSSecret=apps/wildcard-tls", "--set", "dataplane.threads=4",
              "--set", "controller.defaultBackendService=apps/error-pages",
              "--set", "controller.publishStatusAddress=192.0.2.7\\,edge.example.com",
              "--set", "dataplane.config.connectTimeout=5s", "--set", "dataplane.config.readTimeout=1m",
              "--set", "dataplane.config.sendTimeout=1m",
              "--set", "dataplane.config.websocketIdleTimeout=1h",
              "--set", "dataplane.config.trustedProxies=10.0.0.0/8",
              "--set", "dataplane.config.maxHeaderBytes=32k", "--set", "dataplane.config.headerTimeout=10s",
              "--set", "dataplane.config.tcpKeepalive=30s", "--set", "dataplane.config.maxConnections=50000",
              "--set", "dataplane.config.proxyBodySize=50m", "--set", "dataplane.config.proxyProtocol=true",
              "--set", "dataplane.config.accessLog=false"]


@pytest.fixture(scope="module")
def rendered_flags(helm) -> dict[str, set[str]]:
    """component -> every flag name the chart renders for it, over all variants."""
    flags = {"controller": set(), "dataplane": set()}
    variants = [EVERY_FLAG] + [["-f", str(path)] for path in CI_VALUES]
    for variant in variants:
        objects = helm.template(*variant)
        for workload in find_all(objects, "Deployment") + find_all(objects, "DaemonSet"):
            component = workload["metadata"]["labels"]["app.kubernetes.io/component"]
            flags[component] |= {arg.split("=")[0] for arg in args_of(workload)}
    return flags


def test_chart_flags_are_in_the_contract(rendered_flags):
    flags = rendered_flags
    for component, used in flags.items():
        assert used - CONTRACT_FLAGS[component] - EXTRA_FLAGS[component] == set(), component
    # Every flag the chart should be able to set is reachable from some values.
    assert (CONTRACT_FLAGS["dataplane"] | EXTRA_FLAGS["dataplane"]) - flags["dataplane"] == set()
    assert (CONTRACT_FLAGS["controller"] | EXTRA_FLAGS["controller"]) - flags["controller"] == {
        "--kubeconfig", "--manifests", "--grpc-insecure"}


def built_binary(name: str) -> Path:
    for directory in filter(None, [os.environ.get("PIER_BIN_DIR"),
                                   str(REPO_ROOT / "build" / "release" / "bin")]):
        path = Path(directory) / name
        if os.access(path, os.X_OK):
            return path
    pytest.skip(f"{name} not built (set PIER_BIN_DIR)")


@pytest.mark.parametrize("component", ["controller", "dataplane"])
def test_binaries_accept_the_chart_flags(rendered_flags, component):
    binary = built_binary(f"pier-{component}")
    help_text = subprocess.run([str(binary), "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=30, check=False).stdout
    accepted = set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", help_text))
    assert rendered_flags[component] - accepted == set()


def documented_flags(component: str) -> set[str]:
    """The flags docs/flags.md lists in the first column of pier-<component>'s table."""
    text = (REPO_ROOT / "docs" / "flags.md").read_text()
    section = text.split(f"## pier-{component}\n", 1)[1].split("\n## ", 1)[0]
    flags = set()
    for line in section.splitlines():
        if line.startswith("| `--"):
            flags |= set(re.findall(r"`(--[a-z0-9-]+)`", line.split("|")[1]))
    return flags


@pytest.mark.parametrize("component", ["controller", "dataplane"])
def test_flag_reference_lists_exactly_the_binaries_flags(component):
    """docs/flags.md is written by hand: it must name every flag --help prints, and no other."""
    binary = built_binary(f"pier-{component}")
    help_text = subprocess.run([str(binary), "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=30, check=False).stdout
    options = help_text.split("Options:", 1)[1]
    accepted = set(re.findall(r"^\s+(?:-\w,)?(--[a-z0-9][a-z0-9-]*)", options, re.M)) - {"--help"}
    assert documented_flags(component) == accepted
