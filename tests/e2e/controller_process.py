"""pier-controller against a KubeCluster, for the e2e tests of status, Events and leader election.

    kubeconfig = chart_rbac_kubeconfig(cluster)       # the chart's RBAC, a ServiceAccount token
    with ControllerProcess(kubeconfig, cluster.workdir, "a", "--leader-elect") as controller:
        controller.wait_metric("pier_controller_is_leader", 1)

The controller runs out of cluster (--source=cluster --kubeconfig) on free loopback ports, in
its own process group, and is always killed on exit.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from kubeharness import KubeCluster, KubeToolsUnavailable, free_port, kube_tools_bin_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
RENDER_RBAC = REPO_ROOT / "tools" / "render-rbac.sh"
RBAC_NAMESPACE = "pier-system"
SERVICE_ACCOUNT = "pier-controller"  # what the chart names it for release "pier"
STOP_TIMEOUT_S = 15.0


def controller_binary() -> Path:
    bin_dir = Path(os.environ.get("PIER_BIN_DIR", REPO_ROOT / "build" / "release" / "bin"))
    path = bin_dir / "pier-controller"
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is missing: build it (ninja pier-controller) or set PIER_BIN_DIR")
    return path


def cluster_for_controller(namespace: str):
    """A started KubeCluster with `namespace` created, for a module fixture to yield from;
    skips the module when the kube tools or pier-controller are not built."""
    try:
        kube_tools_bin_dir()
        controller_binary()
    except (KubeToolsUnavailable, FileNotFoundError) as error:
        pytest.skip(f"missing binaries: {error}")
    with KubeCluster() as started:
        started.kubectl("create", "namespace", namespace)
        yield started


def chart_rbac_kubeconfig(cluster: KubeCluster, namespace: str = RBAC_NAMESPACE) -> Path:
    """Applies the chart's controller RBAC (tools/render-rbac.sh) and returns a kubeconfig with
    a token of its ServiceAccount, whose context namespace is `namespace`."""
    cluster.kubectl("create", "namespace", namespace)
    env = dict(os.environ, HELM=str(cluster.bin_dir / "helm"))
    rendered = subprocess.run(["bash", str(RENDER_RBAC), "--namespace", namespace], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=120, check=True).stdout
    cluster.kubectl("apply", "-f", "-", input=rendered)
    return cluster.token_kubeconfig(SERVICE_ACCOUNT, namespace)


def apply(cluster: KubeCluster, *objects: dict) -> None:
    cluster.kubectl("apply", "-f", "-",
                    input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def wait_until(check, timeout: float, what: str, interval: float = 0.2):
    """Polls check() until it returns something truthy; returns it or fails naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


class ControllerProcess:
    def __init__(self, kubeconfig: Path, workdir: Path, name: str, *extra: str):
        self.name = name
        self.metrics_port = free_port()
        self.log_path = workdir / f"controller-{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(controller_binary()), "--source=cluster", f"--kubeconfig={kubeconfig}",
             f"--grpc-listen=127.0.0.1:{free_port()}", f"--metrics-listen=127.0.0.1:{self.metrics_port}",
             "--log-level=debug", *extra],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def __enter__(self) -> "ControllerProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.kill()

    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def identity(self, timeout: float = 30.0) -> str:
        """The identity this process writes Events and the Lease as (from its log)."""
        def find():
            match = re.search(r"this replica is ([^,\s]+),", self.log())
            return match.group(1) if match else None
        return wait_until(find, timeout, f"controller {self.name} logs its identity")

    def metric(self, name: str) -> float | None:
        """The value of an unlabelled metric, or None when /metrics does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2) as response:
                body = response.read().decode()
        except OSError:
            return None
        for line in body.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def terminate(self, timeout: float = STOP_TIMEOUT_S) -> float:
        """SIGTERM; returns how long it took to exit (killed after `timeout`)."""
        started = time.monotonic()
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return time.monotonic() - started

    def kill(self) -> None:
        if self.running():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        if not self._log.closed:
            self._log.close()
