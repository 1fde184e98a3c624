"""Running Pier's real binaries on loopback for the integration tests.

Processes run in their own process group with a parent-death signal, log into the test's
temporary directory, and are always stopped by whoever started them (see conftest.py).
"""

from __future__ import annotations

import collections
import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, TypeVar

from rawhttp import Response, request

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN_DIR = REPO_ROOT / "build" / "release" / "bin"

STOP_GRACE_S = 5.0
READY_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.05
LOG_TAIL_LINES = 60

# Printed by the sanitizers; a process that logged one of these failed even if it exited 0.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)

T = TypeVar("T")


def bin_dir() -> Path:
    return Path(os.environ.get("PIER_BIN_DIR", str(DEFAULT_BIN_DIR))).resolve()


def binary(name: str) -> Path:
    path = bin_dir() / name
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"{path} is missing: build it first (./dev build) or point PIER_BIN_DIR at a bin dir")
    return path


# Ports handed out recently: a port is probed free and then closed, so two calls in a row (a
# controller's gRPC and metrics ports) could otherwise pick the same one.
_recent_ports: collections.deque = collections.deque(maxlen=512)
_port_picker = random.Random()


def _listener_port_range() -> tuple[int, int]:
    """Ports below the kernel's ephemeral range: the kernel never gives them to an outgoing
    connection, so a port probed free here stays free until the process under test binds it.
    (A port from bind(0) is an ephemeral one, and any client socket opened in between, of which
    the tests open thousands, can take it: 'Address already in use' at start, now and then.)"""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return (10000, low - 1) if low > 11000 else (0, 0)


def free_port() -> int:
    """A port nothing listens on right now, outside the ephemeral range, and not one this process
    handed out in its last 512 picks."""
    first, last = _listener_port_range()
    for _ in range(200):
        with socket.socket() as s:
            if first:
                port = _port_picker.randint(first, last)
                if port in _recent_ports:
                    continue
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            else:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        if port not in _recent_ports:
            _recent_ports.append(port)
            return port
    raise RuntimeError("no free port that was not handed out recently")


def wait_until(check: Callable[[], Optional[T]], timeout: float, what: str,
               interval: float = POLL_INTERVAL_S, alive: Callable[[], None] = lambda: None) -> T:
    """Polls check() until it returns something truthy; raises TimeoutError naming `what`.

    `alive` is called between polls and should raise when a process the wait depends on died,
    so a crash is reported as such instead of as a timeout.
    """
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while True:
        alive()
        try:
            result = check()
            if result:
                return result
        except (OSError, ValueError) as error:  # connection refused, reset, bad response
            last_error = error
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}{detail}")
        time.sleep(interval)


def _child_setup() -> None:
    # Dies with the test runner even if pytest itself is SIGKILLed and no finalizer runs.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ProcessDied(RuntimeError):
    pass


class ManagedProcess:
    """One child process, its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: Optional[dict] = None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self._log.write(("$ " + " ".join(self.argv) + "\n").encode())
        self._log.flush()
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True, preexec_fn=_child_setup)
        self.pid = self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def check_alive(self) -> None:
        if not self.running():
            raise ProcessDied(f"{self.name} exited with {self.popen.returncode}; log tail:\n{self.log_tail()}")

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, grace: float = STOP_GRACE_S) -> Optional[int]:
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit status."""
        if self.running():
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.popen.wait(timeout=grace)
        # Anything the process forked is gone too, even when the leader already exited.
        self._signal_group(signal.SIGKILL)
        self._log.close()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL at once: a crash, not a shutdown."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=STOP_GRACE_S)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def sanitizer_report(self) -> Optional[str]:
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            index = text.find(marker)
            if index >= 0:
                return text[max(0, index - 200):index + 3000]
        return None


class Launcher:
    """Starts processes for one test (or module) and stops every one of them at the end."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.processes: list[ManagedProcess] = []

    def start(self, name: str, argv: list, env: Optional[dict] = None) -> ManagedProcess:
        # Restarts of the same name append to one log, so the story stays in order.
        process = ManagedProcess(name, argv, self.log_dir / f"{name}.log", env)
        self.processes.append(process)
        return process

    def stop_all(self) -> list[str]:
        """Stops everything, newest first; returns sanitizer reports found in the logs."""
        reports = []
        for process in reversed(self.processes):
            process.stop()
            report = process.sanitizer_report()
            if report:
                reports.append(f"{process.name}:\n{report}")
        self.processes.clear()
        return reports

    def logs_for_report(self) -> str:
        parts = []
        for process in self.processes:
            parts.append(f"----- {process.name} ({process.log_path}) -----\n{process.log_tail()}")
        return "\n".join(parts)


@dataclass
class Backend:
    name: str
    port: int
    process: ManagedProcess

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class PierStack:
    """Chat backends + controller (manifests mode) + dataplane, all on loopback."""

    def __init__(self, launcher: Launcher, workdir: Path):
        self.launcher = launcher
        self.manifests_dir = workdir / "manifests"
        self.manifests_dir.mkdir(parents=True, exist_ok=True)
        self.backends: dict[str, Backend] = {}
        self.controller: Optional[ManagedProcess] = None
        self.dataplane: Optional[ManagedProcess] = None
        self.grpc_port = free_port()
        self.controller_metrics_port = free_port()
        self.http_port = free_port()
        self.admin_port = free_port()
        # Extra pier-controller flags, set before start().
        self.controller_args: list[str] = []
        # Set (e.g. to free_port()) before start() to give the dataplane an HTTPS listener.
        self.https_port: Optional[int] = None
        # Extra pier-dataplane flags (e.g. ["--drain-timeout", "5s"]), set before start().
        self.dataplane_args: list[str] = []
        # Extra environment of the dataplane (e.g. {"SSL_CERT_FILE": ca}), set before start().
        self.dataplane_env: dict[str, str] = {}

    # -- processes ------------------------------------------------------------------------

    def start_backend(self, name: str) -> Backend:
        port = free_port()
        process = self.launcher.start(name, [
            binary("pier-chat-backend"), "--listen", f"127.0.0.1:{port}", "--name", name])
        backend = Backend(name, port, process)
        self.backends[name] = backend
        wait_until(lambda: request(port, "GET", "/healthz").status == 200, READY_TIMEOUT_S,
                   f"backend {name} on port {port}", alive=process.check_alive)
        return backend

    def start_controller(self) -> ManagedProcess:
        self.controller = self.launcher.start("controller", [
            binary("pier-controller"), "--source=manifests", "--manifests", self.manifests_dir,
            "--grpc-listen", f"127.0.0.1:{self.grpc_port}",
            "--metrics-listen", f"127.0.0.1:{self.controller_metrics_port}",
            "--log-level", "debug", *self.controller_args])
        return self.controller

    def start_dataplane(self, extra_args: Sequence[str] = (), wrapper: Sequence[str] = ()) -> ManagedProcess:
        """`extra_args` go after the usual flags; `wrapper` runs the binary (e.g. prlimit ...)."""
        self.dataplane = self.launcher.start("dataplane", [
            *wrapper, binary("pier-dataplane"), "--controller", f"127.0.0.1:{self.grpc_port}",
            "--http-listen", f"127.0.0.1:{self.http_port}", "--https-listen", f"127.0.0.1:{self.https_port}" if self.https_port else "",
            "--admin-listen", f"127.0.0.1:{self.admin_port}", "--threads", "2",
            "--log-level", "debug", *self.dataplane_args, *extra_args],
            {**os.environ, **self.dataplane_env} if self.dataplane_env else None)
        return self.dataplane

    def start(self) -> "PierStack":
        """Controller and dataplane on the manifests written so far; returns once ready."""
        self.start_controller()
        self.start_dataplane()
        self.wait_ready()
        return self

    def check_alive(self) -> None:
        for process in (self.controller, self.dataplane):
            if process is not None:
                process.check_alive()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        wait_until(lambda: request(self.admin_port, "GET", "/readyz").status == 200, timeout,
                   "the dataplane's /readyz to answer 200", alive=self.check_alive)

    # -- manifests ------------------------------------------------------------------------

    def write_manifest(self, filename: str, text: str) -> None:
        """Replaces a manifest atomically, so the controller never reads half a file."""
        target = self.manifests_dir / filename
        temporary = self.manifests_dir / f".{filename}.tmp"
        temporary.write_text(text)
        os.replace(temporary, target)

    def remove_manifest(self, filename: str) -> None:
        (self.manifests_dir / filename).unlink()

    # -- clients --------------------------------------------------------------------------

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.http_port}{path}"

    def get(self, path: str, headers: Optional[dict] = None, timeout: float = 5.0) -> Response:
        return request(self.http_port, "GET", path, headers=headers, timeout=timeout)


class Blackhole:
    """A local port where TCP connects hang: a listener with backlog 0 whose accept queue is full.

    Linux drops SYNs to a listener whose accept queue is full, so connect() neither succeeds
    nor fails until the client gives up: a connect timeout, reproducibly, without a network.
    """

    FILL_CONNECT_TIMEOUT_S = 0.3
    MAX_FILLERS = 16

    def __init__(self):
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        self._fillers: list[socket.socket] = []
        for _ in range(self.MAX_FILLERS):
            if not self._connect_one():
                return
        self.close()
        raise RuntimeError("could not fill the accept queue of the blackhole listener")

    def _connect_one(self) -> bool:
        """True when the connect completed (the queue had room), False when it hung."""
        client = socket.socket()
        client.settimeout(self.FILL_CONNECT_TIMEOUT_S)
        try:
            client.connect(("127.0.0.1", self.port))
        except socket.timeout:
            client.close()
            return False
        self._fillers.append(client)
        return True

    def close(self) -> None:
        for client in self._fillers:
            client.close()
        self._fillers.clear()
        self._listener.close()
