"""Real traffic through Pier in cluster mode: the pieces the traffic e2e tests share.

- ClusterPierStack: tests/integration's PierStack (dataplane, clients, process handling) with
  the controller reading a real kube-apiserver (`--source=cluster --kubeconfig`) instead of a
  manifests folder.
- NetnsBackends: pier-chat-backend processes inside a BackendNetwork (netns.py), each on its own
  non-loopback address, so EndpointSlices the API server accepts can point at them.
- Object builders and small waits used by the tests (`X-Backend` tells which backend answered).

The controller always runs with a ServiceAccount token, never as admin: with the RBAC that
tools/render-rbac.sh renders from the chart, or with the ServiceAccount the chart itself made.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from websockets.sync.client import ClientConnection, connect

from kubeharness import KubeCluster, KubeToolsUnavailable, kube_tools_bin_dir
from netns import BackendNetwork, unavailable_reason

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
from harness import (READY_TIMEOUT_S, Launcher, ManagedProcess, PierStack,  # noqa: E402
                     binary, wait_until)
from rawhttp import Connection, Response, format_request, request  # noqa: E402

BACKEND_PORT = 8080  # each backend has its own address in its own namespace: one port for all
PORT_NAME = "http"
INGRESS_CLASS = "pier"
CONTROLLER_NAME = "pier.dev/ingress-controller"
RENDER_RBAC = REPO_ROOT / "tools" / "render-rbac.sh"
ROUTE_TIMEOUT_S = 15.0
POLL_S = 0.01
WS_TIMEOUT_S = 5.0


def require_kube_and_netns() -> Path:
    """The kube tools' bin dir; skips the test (with the reason) when either is unavailable."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    try:
        return kube_tools_bin_dir()
    except KubeToolsUnavailable as error:
        pytest.skip(f"no kube binaries: {error}")


# -- fixtures (imported by name into the test modules that use them) ----------------------------

@pytest.fixture(scope="module")
def kube_cluster():
    bin_dir = require_kube_and_netns()
    with KubeCluster(bin_dir) as started:
        yield started


@pytest.fixture(scope="module")
def backend_network():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with BackendNetwork() as network:
        yield network


@pytest.fixture(scope="module")
def e2e_launcher(backend_network, tmp_path_factory, request):
    """Stops every process it started (newest first) before the network goes away."""
    launcher = Launcher(tmp_path_factory.mktemp(request.module.__name__) / "logs")
    try:
        yield launcher
    finally:
        reports = launcher.stop_all()
        if reports:
            pytest.fail("sanitizer reports in process logs:\n" + "\n".join(reports), pytrace=False)


# -- Kubernetes objects ------------------------------------------------------------------------

def apply(cluster: KubeCluster, *objects: dict) -> None:
    cluster.kubectl("apply", "-f", "-",
                    input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def ingress_class(name: str = INGRESS_CLASS) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": name},
            "spec": {"controller": CONTROLLER_NAME}}


def service(name: str, ns: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"ports": [{"name": PORT_NAME, "port": 80, "targetPort": PORT_NAME,
                                "protocol": "TCP"}]}}


def endpoint_slice(name: str, ns: str, service_name: str, addresses: list[str]) -> dict:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": ns,
                         "labels": {"kubernetes.io/service-name": service_name}},
            "addressType": "IPv4",
            "ports": [{"name": PORT_NAME, "port": BACKEND_PORT, "protocol": "TCP"}],
            "endpoints": [{"addresses": [address], "conditions": {"ready": True}}
                          for address in addresses]}


def ingress(name: str, ns: str, host: str, paths: list[tuple[str, str]],
            class_name: str = INGRESS_CLASS) -> dict:
    """Prefix paths on one host: (path, service) pairs, each to the Service's port 80."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"ingressClassName": class_name, "rules": [{"host": host, "http": {"paths": [
                {"path": path, "pathType": "Prefix",
                 "backend": {"service": {"name": svc, "port": {"number": 80}}}}
                for path, svc in paths]}}]}}


def tls_secret(name: str, ns: str, host: str, workdir: Path) -> tuple[dict, str]:
    """A kubernetes.io/tls Secret with a fresh self-signed certificate for `host`; returns the
    Secret and the certificate's PEM."""
    key, cert = workdir / f"{name}.key", workdir / f"{name}.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30, check=True)
    certificate = cert.read_text()
    return ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns},
             "type": "kubernetes.io/tls",
             "stringData": {"tls.crt": certificate, "tls.key": key.read_text()}}, certificate)


def apply_rendered_rbac(cluster: KubeCluster, ns: str) -> None:
    """The controller's RBAC exactly as the chart grants it, for ServiceAccount pier-controller."""
    helm_home = cluster.workdir / "helm"
    env = dict(os.environ, HELM=str(cluster.bin_dir / "helm"),
               HELM_CACHE_HOME=str(helm_home / "cache"), HELM_CONFIG_HOME=str(helm_home / "config"),
               HELM_DATA_HOME=str(helm_home / "data"))
    rendered = subprocess.run(["bash", str(RENDER_RBAC), "--namespace", ns], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60, check=False)
    assert rendered.returncode == 0, rendered.stderr
    cluster.kubectl("apply", "-f", "-", input=rendered.stdout)


def service_account_kubeconfig(cluster: KubeCluster, account: str, ns: str,
                               server_url: Optional[str] = None) -> Path:
    """A kubeconfig with a fresh token of an existing ServiceAccount (TokenRequest), optionally
    pointing at another address of the same server (a relay)."""
    token = cluster.create_token(account, ns)
    config = json.loads(cluster.kubeconfig_path.read_text())
    user = f"system:serviceaccount:{ns}:{account}"
    config["users"] = [{"name": user, "user": {"token": token}}]
    config["contexts"][0]["context"].update(user=user, namespace=ns)
    if server_url:
        config["clusters"][0]["cluster"]["server"] = server_url
    path = cluster.workdir / f"sa-{ns}-{account}-{int(time.monotonic() * 1000)}.kubeconfig"
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path


# -- processes ---------------------------------------------------------------------------------

@dataclass
class NetBackend:
    name: str
    address: str
    process: ManagedProcess


class NetnsBackends:
    """pier-chat-backend processes in a BackendNetwork, one address each."""

    def __init__(self, launcher: Launcher, network: BackendNetwork):
        self.launcher = launcher
        self.network = network
        self.backends: dict[str, NetBackend] = {}

    def start(self, name: str) -> NetBackend:
        address = self.network.add_address()
        process = self.launcher.start(name, self.network.wrap([
            binary("pier-chat-backend"), "--listen", f"{address}:{BACKEND_PORT}", "--name", name]))
        backend = NetBackend(name, address, process)
        self.backends[name] = backend

        def healthy() -> bool:
            with Connection(BACKEND_PORT, host=address, timeout=2) as connection:
                connection.send(format_request("GET", "/healthz", {"Connection": "close"}))
                return connection.read_response().status == 200
        # Reached from the host namespace, the way the dataplane will reach it.
        wait_until(healthy, READY_TIMEOUT_S, f"backend {name} on {address}:{BACKEND_PORT}",
                   alive=process.check_alive)
        return backend

    def addresses(self, *names: str) -> list[str]:
        return [self.backends[name].address for name in names]


class ClusterPierStack(PierStack):
    """PierStack whose controller watches the API server through `kubeconfig`."""

    def __init__(self, launcher: Launcher, workdir: Path, kubeconfig: Path):
        super().__init__(launcher, workdir)
        self.kubeconfig = kubeconfig

    def start_controller(self) -> ManagedProcess:
        self.controller = self.launcher.start("controller", [
            binary("pier-controller"), "--source=cluster", f"--kubeconfig={self.kubeconfig}",
            "--grpc-listen", f"127.0.0.1:{self.grpc_port}",
            "--metrics-listen", f"127.0.0.1:{self.controller_metrics_port}",
            "--log-level", "debug"])
        return self.controller

    def snapshot(self) -> dict:
        """The controller's current snapshot, as a second dataplane would receive it."""
        result = subprocess.run(
            [str(binary("pier-snapshot-dump")), "--controller", f"127.0.0.1:{self.grpc_port}",
             "--node-id", "e2e-inspector", "--count", "1", "--timeout", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20, check=False)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1])

    def controller_metric(self, name: str, **labels: str) -> float:
        """One series of the controller's /metrics (0 when absent: counters start unexported)."""
        text = request(self.controller_metrics_port, "GET", "/metrics").text
        wanted = sorted(f'{key}="{value}"' for key, value in labels.items())
        for row in text.splitlines():
            if row.startswith("#") or not row.startswith(name):
                continue
            series, _, value = row.rpartition(" ")
            if series == name and not wanted:
                return float(value)
            if series.startswith(name + "{") and \
                    sorted(series[len(name) + 1:-1].split(",")) == wanted:
                return float(value)
        return 0.0


# -- traffic -----------------------------------------------------------------------------------

def get(stack: PierStack, host: str, path: str) -> Response:
    return stack.get(path, headers={"Host": host}, timeout=2.0)


def backend_of(stack: PierStack, host: str, path: str) -> Optional[str]:
    """Which backend answered GET host/path with 200, or None (no route yet, 404, 503...)."""
    response = get(stack, host, path)
    return response.header("x-backend") if response.status == 200 else None


def _wait(stack: PierStack, check, timeout: float, what: str) -> float:
    """Polls check() until truthy; returns the seconds it took. A timeout fails the test with
    the tail of every process log, which is where the reason is."""
    started = time.monotonic()
    try:
        wait_until(check, timeout, what, interval=POLL_S, alive=stack.check_alive)
    except TimeoutError as error:
        raise AssertionError(f"{error}\n{stack.launcher.logs_for_report()}") from None
    return time.monotonic() - started


def wait_for_backend(stack: PierStack, host: str, path: str, name: str,
                     timeout: float = ROUTE_TIMEOUT_S) -> float:
    """Polls until `name` answers host/path; returns the seconds it took."""
    return _wait(stack, lambda: backend_of(stack, host, path) == name, timeout,
                 f"{host}{path} answered by {name}")


def wait_for_status(stack: PierStack, host: str, path: str, status: int,
                    timeout: float = ROUTE_TIMEOUT_S) -> float:
    return _wait(stack, lambda: get(stack, host, path).status == status, timeout,
                 f"{host}{path} answering {status}")


def backends_seen(stack: PierStack, host: str, path: str, requests: int) -> set[str]:
    return {backend_of(stack, host, path) for _ in range(requests)}


def open_websocket(stack: PierStack, host: str, path: str = "/ws/echo") -> ClientConnection:
    """A WebSocket through the dataplane with Host `host` (the URI's host; the socket goes to
    the dataplane's port on 127.0.0.1)."""
    sock = socket.create_connection(("127.0.0.1", stack.http_port), timeout=WS_TIMEOUT_S)
    try:
        # legacy=True: the live socket outlives any `with` block.
        return connect(f"ws://{host}{path}", sock=sock, proxy=None, open_timeout=WS_TIMEOUT_S,
                       close_timeout=2, legacy=True)
    except BaseException:
        sock.close()
        raise


def echo(ws: ClientConnection, message: str) -> None:
    ws.send(message)
    assert ws.recv(timeout=WS_TIMEOUT_S) == message
