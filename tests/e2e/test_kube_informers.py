"""Pier's Kubernetes informers against a real kube-apiserver.

pier-kube-watch runs the controller's informers for the five kinds and prints one JSON line per
callback (REPLACE/UPSERT/DELETE/SYNCED). These tests change objects with kubectl and check what
arrives, including across an apiserver restart and a compaction that expires the watch's
resourceVersion (410 Gone).

To take the watch down deterministically while the apiserver keeps serving kubectl, the
watcher reaches the apiserver through a TCP relay (kuberelay.py) that can cut every
connection and refuse new ones. The relay forwards raw bytes, so TLS is end to end (the
apiserver's certificate is valid for 127.0.0.1, the relay's address too).

How 410 is provoked (reliably, in seconds rather than waiting for a watch timeout): with the
relay cut, an object is deleted, etcd is compacted to its current revision and the apiserver is
restarted. Its watch cache then starts at a revision newer than the watcher's, and etcd no
longer has the older ones, so the watcher's resumed watch is answered 410 (HTTP or an ERROR
event, both are handled) and it must re-list: the deletion shows up only as an object missing
from the REPLACE.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from kubeharness import KubeCluster, KubeToolsUnavailable, kube_tools_bin_dir
from kuberelay import Relay

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENT_TIMEOUT_S = 30.0
# The watcher's retry backoff is capped low so a reconnect after the relay comes back is quick.
MAX_BACKOFF_MS = 2000
STOP_BUDGET_S = 2.0
# Printed by the sanitizers (ASan/UBSan builds); a watcher that logged one failed.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")
NAMESPACE = "pier-e2e"
OTHER_NAMESPACE = "pier-e2e-other"


def watcher_binary() -> Path:
    bin_dir = Path(os.environ.get("PIER_BIN_DIR", REPO_ROOT / "build" / "release" / "bin"))
    path = bin_dir / "pier-kube-watch"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build it (ninja pier-kube-watch) or set PIER_BIN_DIR")
    return path


class Watcher:
    """pier-kube-watch as a subprocess; its JSON lines are collected as they arrive."""

    def __init__(self, kubeconfig: Path, workdir: Path, name: str, *extra: str):
        self.metrics_path = workdir / f"{name}.metrics"
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(watcher_binary()), f"--kubeconfig={kubeconfig}", f"--metrics-file={self.metrics_path}",
             f"--max-backoff-ms={MAX_BACKOFF_MS}", *extra],
            stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL, text=True)
        self._lines: list[dict] = []
        self._eof = False
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.process.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"event": "UNPARSABLE", "raw": raw}
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def mark(self) -> int:
        """The index of the next line; pass it to wait_for to look only at later lines."""
        with self._cond:
            return len(self._lines)

    def lines(self, since: int = 0) -> list[dict]:
        with self._cond:
            return list(self._lines[since:])

    def wait_for(self, predicate, since: int = 0, timeout: float = EVENT_TIMEOUT_S,
                 what: str = "a line") -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._lines[since:]:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._eof:
                    break
                self._cond.wait(min(remaining, 0.5))
        raise AssertionError(f"no {what} within {timeout:.0f} s; lines since {since}: "
                             f"{self.lines(since)}\nwatcher log tail:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        if not self._log.closed:
            self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> float:
        """SIGTERM; returns how long the process took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        took = time.monotonic() - started
        if not self._log.closed:
            self._log.close()
            log = self.log_path.read_text(errors="replace")
            for marker in SANITIZER_MARKERS:
                assert marker not in log, f"{self.log_path} has {marker!r}:\n{self.log_tail(60)}"
        return took

    def metric(self, name: str, **labels: str) -> float:
        wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        for row in self.metrics_path.read_text().splitlines():
            if row.startswith("#") or " " not in row:
                continue
            series, value = row.rsplit(" ", 1)
            if not series.startswith(name + "{"):
                continue
            have = ",".join(sorted(series[len(name) + 1:-1].split(",")))
            if have == wanted:
                return float(value)
        raise AssertionError(f"{name}{{{wanted}}} not in {self.metrics_path}")


def is_event(event: str, kind: str, key: str | None = None):
    return lambda line: (line.get("event") == event and line.get("kind") == kind
                         and (key is None or line.get("key") == key))


def resource_version(cluster: KubeCluster, kind: str, name: str, namespace: str = NAMESPACE) -> str:
    return cluster.kubectl("get", kind, name, "-n", namespace,
                           "-o", "jsonpath={.metadata.resourceVersion}").strip()


def shows_version(kind: str, key: str, version: str):
    """An UPSERT of exactly this version, or a REPLACE that holds it."""
    def check(line: dict) -> bool:
        if line.get("kind") != kind:
            return False
        if line.get("event") == "UPSERT":
            return line.get("key") == key and line.get("resourceVersion") == version
        if line.get("event") == "REPLACE":
            return line.get("versions", {}).get(key) == version
        return False
    return check


def service(name: str, namespace: str = NAMESPACE, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


def apply(cluster: KubeCluster, *objects: dict) -> None:
    cluster.kubectl("apply", "-f", "-",
                    input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


WATCH_RBAC = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
     "metadata": {"name": "pier-e2e-watch"},
     "rules": [
         {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "ingressclasses"],
          "verbs": ["get", "list", "watch"]},
         {"apiGroups": [""], "resources": ["services", "secrets"], "verbs": ["get", "list", "watch"]},
         {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
          "verbs": ["get", "list", "watch"]},
     ]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
     "metadata": {"name": "pier-e2e-watch"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pier-e2e-watch"},
     "subjects": [{"kind": "ServiceAccount", "name": "pier", "namespace": "pier-system"}]},
]


@pytest.fixture(scope="module")
def cluster():
    try:
        kube_tools_bin_dir()
    except KubeToolsUnavailable as error:
        pytest.skip(f"no kube binaries: {error}")
    with KubeCluster() as started:
        started.kubectl("create", "namespace", NAMESPACE)
        started.kubectl("create", "namespace", OTHER_NAMESPACE)
        yield started


@pytest.fixture(scope="module")
def relay(cluster):
    port = int(cluster.server_url.rsplit(":", 1)[1])
    started = Relay(port)
    yield started
    started.close()


ALL_KINDS = ("Ingress", "IngressClass", "Service", "EndpointSlice", "Secret")


@pytest.fixture(scope="module")
def relayed_kubeconfig(cluster, relay) -> Path:
    """A ServiceAccount (bearer token) kubeconfig that reaches the apiserver through the relay."""
    token_config = cluster.token_kubeconfig("pier", "pier-system")
    apply(cluster, *WATCH_RBAC)
    config = json.loads(token_config.read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{relay.port}"
    path = cluster.workdir / "relayed.kubeconfig"
    path.write_text(json.dumps(config))
    return path


def start_synced_watcher(kubeconfig: Path, workdir: Path, name: str) -> Watcher:
    started = Watcher(kubeconfig, workdir, name)
    try:
        for kind in ALL_KINDS:
            started.wait_for(is_event("SYNCED", kind), what=f"SYNCED {kind}")
    except BaseException:
        started.stop()
        raise
    return started


@pytest.fixture(scope="module")
def watcher(cluster, relayed_kubeconfig):
    """Watches all namespaces, shared by the tests that only look at its output."""
    started = start_synced_watcher(relayed_kubeconfig, cluster.workdir, "all")
    yield started
    started.stop()


def test_initial_list_is_replaced_then_synced(watcher):
    lines = watcher.lines()
    for kind in ALL_KINDS:
        replace = next(i for i, line in enumerate(lines) if is_event("REPLACE", kind)(line))
        synced = next(i for i, line in enumerate(lines) if is_event("SYNCED", kind)(line))
        assert replace < synced, kind
    service_replace = next(line for line in lines if is_event("REPLACE", "Service")(line))
    assert "default/kubernetes" in service_replace["keys"]


def test_every_kind_is_added_modified_and_deleted(cluster, watcher):
    since = watcher.mark()
    apply(cluster,
          {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "pier"},
           "spec": {"controller": "pier.dev/ingress-controller"}},
          service("web"),
          {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"name": "web-1", "namespace": NAMESPACE,
                        "labels": {"kubernetes.io/service-name": "web"}},
           "addressType": "IPv4",
           # Documentation range: the API refuses loopback endpoint addresses.
           "endpoints": [{"addresses": ["198.51.100.10"], "conditions": {"ready": True}}],
           "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
          # Applied before the TLS one: once the TLS Secret's event is in, this one would
          # have been too, had the controller's Secret filter let it through.
          {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "opaque", "namespace": NAMESPACE},
           "type": "Opaque", "stringData": {"password": "x"}},
          # Any type with a ca.crt is read (a proxy-ssl-secret CA), filtered by the controller.
          {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "backend-ca", "namespace": NAMESPACE},
           "type": "Opaque", "stringData": {"ca.crt": "ca"}},
          {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-tls", "namespace": NAMESPACE},
           "type": "kubernetes.io/tls", "stringData": {"tls.crt": "cert", "tls.key": "key"}},
          {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "web", "namespace": NAMESPACE},
           "spec": {"ingressClassName": "pier", "rules": [{"host": "web.example", "http": {"paths": [
               {"path": "/ws", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}})
    added = {
        "IngressClass": "pier",
        "Service": f"{NAMESPACE}/web",
        "EndpointSlice": f"{NAMESPACE}/web-1",
        "Secret": f"{NAMESPACE}/web-tls",
        "Ingress": f"{NAMESPACE}/web",
    }
    for kind, key in added.items():
        line = watcher.wait_for(is_event("UPSERT", kind, key), since, what=f"UPSERT {kind} {key}")
        assert line["objectKind"] == kind  # apiVersion/kind present on delivered objects
    assert not any(line.get("key") == f"{NAMESPACE}/opaque" for line in watcher.lines(since))
    watcher.wait_for(is_event("UPSERT", "Secret", f"{NAMESPACE}/backend-ca"), since, what="UPSERT backend-ca")

    since = watcher.mark()
    cluster.kubectl("label", "service", "web", "-n", NAMESPACE, "tier=frontend")
    version = resource_version(cluster, "service", "web")
    watcher.wait_for(shows_version("Service", f"{NAMESPACE}/web", version), since,
                     what=f"Service web at resourceVersion {version}")

    since = watcher.mark()
    cluster.kubectl("delete", "ingress", "web", "-n", NAMESPACE)
    cluster.kubectl("delete", "secret", "web-tls", "-n", NAMESPACE)
    cluster.kubectl("delete", "endpointslice", "web-1", "-n", NAMESPACE)
    cluster.kubectl("delete", "ingressclass", "pier")
    for kind, key in (("Ingress", f"{NAMESPACE}/web"), ("Secret", f"{NAMESPACE}/web-tls"),
                      ("EndpointSlice", f"{NAMESPACE}/web-1"), ("IngressClass", "pier")):
        watcher.wait_for(is_event("DELETE", kind, key), since, what=f"DELETE {kind} {key}")


def test_namespace_scoped_watch_sees_only_its_namespace(cluster):
    apply(cluster, service("mine", NAMESPACE), service("theirs", OTHER_NAMESPACE))
    scoped = Watcher(cluster.kubeconfig_path, cluster.workdir, "scoped", f"--namespace={NAMESPACE}")
    try:
        replace = scoped.wait_for(is_event("REPLACE", "Service"), what="REPLACE Service")
        assert f"{NAMESPACE}/mine" in replace["keys"]
        assert f"{OTHER_NAMESPACE}/theirs" not in replace["keys"]
        assert "default/kubernetes" not in replace["keys"]
        scoped.wait_for(is_event("SYNCED", "IngressClass"), what="SYNCED IngressClass")  # cluster-scoped

        since = scoped.mark()
        apply(cluster, service("theirs-2", OTHER_NAMESPACE), service("mine-2", NAMESPACE))
        scoped.wait_for(is_event("UPSERT", "Service", f"{NAMESPACE}/mine-2"), since, what="UPSERT mine-2")
        assert not any(OTHER_NAMESPACE in line.get("key", "") for line in scoped.lines(since))
    finally:
        scoped.stop()


def test_large_objects_arrive_whole(cluster, watcher):
    # Nearly 1 MiB (the Secret size limit) in one watch event: read in many chunks and
    # reassembled by the line splitter.
    # `create`, not `apply`: apply would copy the data into an annotation, over its size limit.
    payload = "x" * (1000 * 1000)
    since = watcher.mark()
    cluster.kubectl("create", "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "big-tls", "namespace": NAMESPACE},
         "type": "kubernetes.io/tls", "stringData": {"tls.crt": payload, "tls.key": "key"}}))
    watcher.wait_for(is_event("UPSERT", "Secret", f"{NAMESPACE}/big-tls"), since, what="UPSERT big-tls")
    apply(cluster, service("after-big"))
    watcher.wait_for(is_event("UPSERT", "Service", f"{NAMESPACE}/after-big"), since, what="UPSERT after-big")


def test_rotated_token_file_is_picked_up(cluster):
    """A tokenFile whose token is rejected (401) is re-read, as projected tokens rotate."""
    good = json.loads(cluster.token_kubeconfig("pier", "pier-system").read_text())
    token_file = cluster.workdir / "rotating.token"
    token_file.write_text("not-a-valid-token\n")
    user = good["users"][0]["user"]
    user["tokenFile"] = str(token_file)
    token = user.pop("token")
    path = cluster.workdir / "rotating.kubeconfig"
    path.write_text(json.dumps(good))
    rotating = Watcher(path, cluster.workdir, "rotating")
    try:
        time.sleep(2.0)
        assert not any(line.get("event") == "SYNCED" for line in rotating.lines()), rotating.lines()
        assert "401" in rotating.log_tail(), rotating.log_tail()
        token_file.write_text(token + "\n")
        for kind in ALL_KINDS:
            rotating.wait_for(is_event("SYNCED", kind), what=f"SYNCED {kind} after the token rotated")
    finally:
        rotating.stop()


def test_watches_ended_by_the_server_resume_without_relisting(cluster):
    """timeoutSeconds makes the apiserver end each watch cleanly; the informer resumes it."""
    watcher = Watcher(cluster.kubeconfig_path, cluster.workdir, "short-watches",
                      "--min-watch-timeout=1", "--max-watch-timeout=2")
    try:
        for kind in ALL_KINDS:
            watcher.wait_for(is_event("SYNCED", kind), what=f"SYNCED {kind}")
        time.sleep(5.0)  # several server-side timeouts
        since = watcher.mark()
        apply(cluster, service("after-timeouts"))
        watcher.wait_for(is_event("UPSERT", "Service", f"{NAMESPACE}/after-timeouts"), since,
                         what="UPSERT after several watch timeouts")
        assert sum(1 for line in watcher.lines() if is_event("REPLACE", "Service")(line)) == 1
    finally:
        watcher.stop()
    assert watcher.metric("pier_controller_watch_restarts_total", kind="Service", reason="closed") >= 2
    assert watcher.metric("pier_controller_watch_restarts_total", kind="Service", reason="error") == 0


def test_change_made_while_the_apiserver_restarts_arrives(cluster, relay, watcher):
    apply(cluster, service("restart-probe"))
    watcher.wait_for(is_event("UPSERT", "Service", f"{NAMESPACE}/restart-probe"), what="UPSERT restart-probe")

    relay.cut()  # the watcher sees its connection die and retries into a closed door
    since = watcher.mark()
    cluster.restart_apiserver()
    cluster.kubectl("label", "service", "restart-probe", "-n", NAMESPACE, "changed=while-down")
    version = resource_version(cluster, "service", "restart-probe")
    time.sleep(1.0)  # at least one failed reconnect, so the watch is really down
    relay.restore()
    watcher.wait_for(shows_version("Service", f"{NAMESPACE}/restart-probe", version), since,
                     what=f"restart-probe at resourceVersion {version}")


def test_expired_resource_version_relists_and_drops_deleted_objects(cluster, relay, relayed_kubeconfig):
    watcher = start_synced_watcher(relayed_kubeconfig, cluster.workdir, "expiry")
    try:
        apply(cluster, service("doomed"), service("survivor"))
        for name in ("doomed", "survivor"):
            watcher.wait_for(is_event("UPSERT", "Service", f"{NAMESPACE}/{name}"), what=f"UPSERT {name}")

        relay.cut()
        since = watcher.mark()
        cluster.kubectl("delete", "service", "doomed", "-n", NAMESPACE)
        cluster.kubectl("label", "service", "survivor", "-n", NAMESPACE, "changed=during-compaction")
        version = resource_version(cluster, "service", "survivor")
        cluster.compact_etcd()
        cluster.restart_apiserver()
        relay.restore()

        replace = watcher.wait_for(is_event("REPLACE", "Service"), since, what="a Service re-list after 410")
        assert f"{NAMESPACE}/doomed" not in replace["keys"]
        assert replace["versions"].get(f"{NAMESPACE}/survivor") == version
        # The deletion was never streamed: only the re-list can have reported it.
        assert not any(is_event("DELETE", "Service", f"{NAMESPACE}/doomed")(line)
                       for line in watcher.lines(since))
        # Synced is reported once per kind, not again after a re-list.
        assert sum(1 for line in watcher.lines() if is_event("SYNCED", "Service")(line)) == 1

        # And the informer watches again afterwards.
        since = watcher.mark()
        apply(cluster, service("after-relist"))
        watcher.wait_for(is_event("UPSERT", "Service", f"{NAMESPACE}/after-relist"), since,
                         what="UPSERT after the re-list")
    finally:
        watcher.stop()
    assert watcher.metric("pier_controller_watch_restarts_total", kind="Service", reason="gone") >= 1
    # The cut connection and the refused reconnects.
    assert watcher.metric("pier_controller_watch_restarts_total", kind="Service", reason="error") >= 1


def test_stop_is_prompt_and_metrics_count_events(cluster):
    watcher = start_synced_watcher(cluster.kubeconfig_path, cluster.workdir, "stopping")
    try:
        since = watcher.mark()
        apply(cluster, service("counted"))
        watcher.wait_for(is_event("UPSERT", "Service", f"{NAMESPACE}/counted"), since, what="UPSERT counted")
        cluster.kubectl("delete", "service", "counted", "-n", NAMESPACE)
        watcher.wait_for(is_event("DELETE", "Service", f"{NAMESPACE}/counted"), since, what="DELETE counted")
        time.sleep(0.5)  # every watch idle: the stop has to interrupt blocked reads
    finally:
        took = watcher.stop()
    assert took < STOP_BUDGET_S, f"watcher took {took:.2f} s to exit"
    assert watcher.process.returncode == 0
    stopped = watcher.wait_for(lambda line: line.get("event") == "STOPPED", timeout=1)
    assert stopped["stop_ms"] < STOP_BUDGET_S * 1000
    assert watcher.metric("pier_controller_watch_events_total", kind="Service", type="ADDED") >= 1
    assert watcher.metric("pier_controller_watch_events_total", kind="Service", type="DELETED") >= 1
    assert watcher.metric("pier_controller_watch_restarts_total", kind="Service", reason="gone") == 0
