"""pier-controller on its own, seen from the wire: a manifests folder in, snapshots out over gRPC
(read with pier-snapshot-dump, which speaks the dataplane's side of the protocol), plus the
admin endpoints, flag handling and shutdown."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import manifests as m
from harness import Launcher, ManagedProcess, binary, free_port, wait_until
from rawhttp import request

READY_TIMEOUT_S = 20.0
# The contract: a change in the folder reaches dataplanes within one second.
CHANGE_DEADLINE_S = 1.0


def app_objects(path: str = "/app", service: str = "app") -> list[dict]:
    return [m.ingress_class(), *m.service_with_backends(service, [18080]), m.ingress("app", [(path, service)])]


class Controller:
    """One pier-controller in manifests mode on free loopback ports."""

    def __init__(self, launcher: Launcher, workdir: Path):
        self.launcher = launcher
        self.manifests_dir = workdir / "manifests"
        self.manifests_dir.mkdir(parents=True, exist_ok=True)
        self.grpc_port = free_port()
        self.metrics_port = free_port()
        self.process: ManagedProcess | None = None
        self._dumps = 0

    def write(self, filename: str, text: str) -> None:
        temporary = self.manifests_dir / f".{filename}.tmp"
        temporary.write_text(text)
        temporary.replace(self.manifests_dir / filename)

    def start(self) -> "Controller":
        self.process = self.launcher.start("controller", [
            binary("pier-controller"), "--source=manifests", "--manifests", self.manifests_dir,
            "--grpc-listen", f"127.0.0.1:{self.grpc_port}",
            "--metrics-listen", f"127.0.0.1:{self.metrics_port}", "--log-level", "debug"])
        wait_until(lambda: request(self.metrics_port, "GET", "/readyz").status == 200, READY_TIMEOUT_S,
                   "the controller's /readyz", alive=self.process.check_alive)
        return self

    def metrics(self) -> str:
        return request(self.metrics_port, "GET", "/metrics").body.decode()

    def dump(self, *args: str) -> "Dump":
        self._dumps += 1
        process = self.launcher.start(f"dump{self._dumps}", [
            binary("pier-snapshot-dump"), "--controller", f"127.0.0.1:{self.grpc_port}",
            "--node-id", f"dump{self._dumps}", "--timeout", "30", *args])
        return Dump(process)


class Dump:
    """A running pier-snapshot-dump; its snapshots are the JSON lines of its log."""

    def __init__(self, process: ManagedProcess):
        self.process = process

    def snapshots(self) -> list[dict]:
        return [json.loads(line) for line in self.process.log_text().splitlines() if line.startswith("{")]

    def wait_for(self, count: int, timeout: float = READY_TIMEOUT_S) -> list[dict]:
        return wait_until(lambda: (s := self.snapshots()) and len(s) >= count and s, timeout,
                          f"{count} snapshot(s) from {self.process.name}")


def routes_of(snapshot: dict) -> list[dict]:
    return [route for vhost in snapshot.get("virtual_hosts", []) for route in vhost.get("routes", [])]


def paths_of(snapshot: dict) -> set[str]:
    return {route["match"]["path"] for route in routes_of(snapshot) if "match" in route}


@pytest.fixture
def controller(launcher, tmp_path) -> Controller:
    return Controller(launcher, tmp_path)


def test_first_snapshot_arrives_after_sync(controller):
    controller.write("app.yaml", m.render(*app_objects()))
    controller.start()
    first = controller.dump("--count", "1").wait_for(1)[0]
    assert first["version"] == "1"  # uint64 is a string in protobuf's JSON mapping
    assert len(first["controller_instance"]) == 16
    assert "/app" in paths_of(first)
    assert any(route["ingress"]["name"] == "app" for route in routes_of(first))

    metrics = controller.metrics()
    assert "pier_controller_snapshots_total 1" in metrics
    assert "pier_controller_is_leader 1" in metrics
    assert 'pier_controller_watch_events_total{kind="Ingress",type="ADDED"} 1' in metrics
    assert "pier_build_info{" in metrics
    assert request(controller.metrics_port, "GET", "/healthz").status == 200


def test_edit_is_pushed_within_a_second(controller):
    controller.write("app.yaml", m.render(*app_objects("/app")))
    controller.start()
    dump = controller.dump()
    first = dump.wait_for(1)[0]

    started = time.monotonic()
    controller.write("app.yaml", m.render(*app_objects("/moved")))
    second = wait_until(lambda: (s := dump.snapshots()) and len(s) >= 2 and s[1], 5, "the edited snapshot",
                        interval=0.01)
    elapsed = time.monotonic() - started
    assert elapsed < CHANGE_DEADLINE_S, f"change took {elapsed:.2f}s"
    assert int(second["version"]) == int(first["version"]) + 1
    assert second["controller_instance"] == first["controller_instance"]
    assert "/moved" in paths_of(second) and "/app" not in paths_of(second)
    wait_until(lambda: 'pier_controller_dataplane_acks_total{result="ack"} 2' in controller.metrics(), 5,
               "both acks to be counted")


def test_hello_with_the_current_version_gets_nothing_until_the_next_change(controller):
    controller.write("app.yaml", m.render(*app_objects("/app")))
    controller.start()
    current = controller.dump("--count", "1").wait_for(1)[0]

    resumed = controller.dump("--last-version", current["version"],
                              "--last-instance", current["controller_instance"], "--count", "1")
    time.sleep(1.0)
    assert resumed.snapshots() == []
    resumed.process.check_alive()

    controller.write("app.yaml", m.render(*app_objects("/next")))
    pushed = resumed.wait_for(1, timeout=5)[0]
    assert int(pushed["version"]) == int(current["version"]) + 1
    assert resumed.process.popen.wait(timeout=5) == 0

    # Same version number from another controller process: that is not the same snapshot.
    stale = controller.dump("--last-version", pushed["version"], "--last-instance", "0000000000000000",
                            "--count", "1")
    assert stale.wait_for(1, timeout=5)[0]["version"] == pushed["version"]


def test_bad_yaml_keeps_the_objects_the_file_held(controller):
    controller.write("app.yaml", m.render(*app_objects("/app")))
    controller.start()
    dump = controller.dump()
    dump.wait_for(1)

    controller.write("app.yaml", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: [oops\n")
    # Another file changes, so a new snapshot is built while app.yaml is broken.
    controller.write("more.yaml", m.render(*m.service_with_backends("more", [18081]),
                                           m.ingress("more", [("/more", "more")])))
    second = dump.wait_for(2, timeout=5)[1]
    assert {"/app", "/more"} <= paths_of(second)
    log = controller.process.log_text()
    assert re.search(r"app\.yaml: line \d+, column \d+: .*; keeping the 4 objects it held before", log), log


def test_stream_survives_other_dataplanes_and_sigterm_is_clean(controller):
    controller.write("app.yaml", m.render(*app_objects()))
    controller.start()
    dumps = [controller.dump() for _ in range(3)]
    for dump in dumps:
        dump.wait_for(1)
    wait_until(lambda: "pier_controller_dataplanes_connected 3" in controller.metrics(), 5, "3 connected dataplanes")

    started = time.monotonic()
    controller.process.popen.send_signal(signal.SIGTERM)
    assert controller.process.popen.wait(timeout=5) == 0
    assert time.monotonic() - started < 3
    # Every dataplane was told to go (UNAVAILABLE), none had to time out.
    for dump in dumps:
        assert dump.process.popen.wait(timeout=5) == 1
        assert "controller shutting down" in dump.process.log_text()


@pytest.mark.parametrize("args, message", [
    (["--source=manifests"], "needs --manifests"),
    (["--source=manifests", "--manifests", "/nonexistent"], "not a readable directory"),
    (["--source=manifests", "--manifests", ".", "--grpc-listen", "0.0.0.0:18000"], "--grpc-insecure"),
    (["--source=manifests", "--manifests", ".", "--grpc-listen", "127.0.0.1:1", "--grpc-tls-cert", "x"],
     "all three"),
    (["--source=manifests", "--manifests", ".", "--metrics-listen", "nowhere"], "--metrics-listen"),
    (["--source=manifests", "--manifests", ".", "--log-format", "xml"], "--log-format"),
    (["--source=manifests", "--manifests", ".", "--log-level", "chatty"], "--log-level"),
    (["--source=manifests", "--manifests", ".", "--publish-service", "noslash"], "NAMESPACE/NAME"),
    (["--source=bogus"], "--source"),
    (["--no-such-flag"], "no-such-flag"),
])
def test_bad_flags_exit_2_with_a_message(args, message):
    result = subprocess.run([str(binary("pier-controller")), *args], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_cluster_source_is_refused_or_reports_a_bad_kubeconfig():
    result = subprocess.run([str(binary("pier-controller")), "--source=cluster", "--kubeconfig", "/nonexistent/kc",
                             "--metrics-listen", f"127.0.0.1:{free_port()}", "--grpc-listen",
                             f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=10)
    if result.returncode == 2:  # built without controller/src/kube
        assert "cluster source is not built yet" in result.stderr
    else:
        assert result.returncode == 1, result.stderr
        assert "/nonexistent/kc" in result.stderr


def test_insecure_flag_allows_a_non_loopback_listener(launcher, tmp_path):
    port = free_port()
    metrics_port = free_port()
    process = launcher.start("controller", [
        binary("pier-controller"), "--source=manifests", "--manifests", tmp_path,
        "--grpc-listen", f"0.0.0.0:{port}", "--grpc-insecure", "--metrics-listen", f"127.0.0.1:{metrics_port}"])
    wait_until(lambda: request(metrics_port, "GET", "/readyz").status == 200, READY_TIMEOUT_S,
               "the controller's /readyz", alive=process.check_alive)


def test_version_and_help():
    version = subprocess.run([str(binary("pier-controller")), "--version"], capture_output=True, text=True,
                             timeout=10)
    assert version.returncode == 0
    assert version.stdout.startswith("pier-controller ")
    helped = subprocess.run([str(binary("pier-controller")), "--help"], capture_output=True, text=True, timeout=10)
    assert helped.returncode == 0
    for flag in ("--source", "--manifests", "--grpc-listen", "--metrics-listen", "--grpc-client-ca",
                 "--leader-elect", "--publish-service", "--watch-ingress-without-class"):
        assert flag in helped.stdout


def test_metrics_pass_promtool(controller):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    controller.write("app.yaml", m.render(*app_objects()))
    controller.start()
    controller.dump("--count", "1").wait_for(1)
    result = subprocess.run([promtool, "check", "metrics"], input=controller.metrics(), capture_output=True,
                            text=True, timeout=10)
    assert result.returncode == 0, result.stdout + result.stderr
