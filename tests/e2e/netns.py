"""Backends on non-loopback addresses, for e2e tests that send real traffic.

The API server refuses EndpointSlice addresses in 127.0.0.0/8 ("may not be in the loopback
range"), so backends behind a Service must listen somewhere else. A BackendNetwork is a network
namespace joined to the host by a veth pair and numbered from TEST-NET-2 (198.51.100.0/24,
RFC 5737: never routed on the Internet). The host side holds the block's first address; every
address handed out by add_address() lives inside the namespace. Processes started there with
wrap() listen on those addresses, and anything on the host (the dataplane) reaches them through
the veth. Nothing leaves the machine.

    with BackendNetwork() as net:
        address = net.add_address()                       # "198.51.100.18"
        argv = net.wrap(["pier-chat-backend", "--listen", f"{address}:8080"])

Several runs can share a machine: each takes its own /28 of the /24 (chosen under a lock) and
names its namespace and links after its process id. close() kills whatever still runs in the
namespace and deletes it (the veth pair goes with it); it also runs at interpreter exit, and
cleanup_stale() removes what a crashed run (a dead pid) left behind. Needs root and iproute2:
unavailable_reason() says why not, so callers can skip with that reason.
"""

from __future__ import annotations

import atexit
import fcntl
import ipaddress
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

NETWORK = ipaddress.ip_network("198.51.100.0/24")
BLOCK_PREFIX = 28  # 16 blocks of 14 usable addresses: host side + up to 13 backends per run
NAME_PREFIX = "pier-e2e-"
LINK_PREFIX = "pe"  # + 6 hex digits of the pid + 4 random + h|n: 13 characters, under IFNAMSIZ
LOCK_PATH = Path(os.environ.get("PIER_NETNS_LOCK", "/run/lock/pier-e2e-netns.lock"))
IP_TIMEOUT_S = 10.0
KILL_WAIT_S = 5.0

_NETNS_NAME = re.compile(rf"^{re.escape(NAME_PREFIX)}(\d+)-[0-9a-f]+$")
_LINK_NAME = re.compile(rf"^{LINK_PREFIX}([0-9a-f]{{6}})[0-9a-f]{{4}}[hn]$")


class NetnsError(RuntimeError):
    """An `ip` command failed; the message carries its stderr."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    ip = shutil.which("ip") or "ip"
    try:
        result = subprocess.run([ip, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, timeout=IP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NetnsError(f"ip {' '.join(args)}: {error}") from error
    if check and result.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def unavailable_reason() -> str | None:
    """None when this process can create network namespaces, else why not (for pytest.skip)."""
    if os.geteuid() != 0:
        return "network namespaces need root (run the e2e tests as root, as CI does)"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed; ./dev deps installs it"
    # Named like a real one, so cleanup_stale() removes it should this process die right here.
    probe = f"{NAME_PREFIX}{os.getpid()}-{secrets.token_hex(2)}"
    result = _ip("netns", "add", probe, check=False)
    if result.returncode != 0:
        return f"`ip netns add` does not work here: {result.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_namespace_processes(name: str) -> None:
    """SIGKILLs every process in the namespace and waits (bounded) for them to go."""
    deadline = time.monotonic() + KILL_WAIT_S
    while True:
        result = _ip("netns", "pids", name, check=False)
        pids = [int(p) for p in result.stdout.split() if p.isdigit()]
        if result.returncode != 0 or not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() >= deadline:
            return
        time.sleep(0.05)


def _delete_namespace(name: str) -> None:
    _kill_namespace_processes(name)
    # Deleting the namespace destroys the veth end inside it, and with it the host end.
    _ip("netns", "del", name, check=False)


def cleanup_stale() -> list[str]:
    """Deletes namespaces and links left by runs whose process is gone; returns their names."""
    removed = []
    listing = _ip("netns", "list", check=False).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _NETNS_NAME.match(name)
        if match and not _pid_alive(int(match.group(1))):
            _delete_namespace(name)
            removed.append(name)
    # A run killed between creating the veth pair and moving one end leaves both in the host.
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        fields = line.split(":")
        if len(fields) < 2:
            continue
        link = fields[1].strip().split("@")[0]
        match = _LINK_NAME.match(link)
        if match and not _pid_alive(int(match.group(1), 16)):
            _ip("link", "del", link, check=False)
            removed.append(link)
    return removed


def _used_blocks() -> set[ipaddress.IPv4Network]:
    used = set()
    for line in _ip("-o", "-4", "addr", "show").stdout.splitlines():
        fields = line.split()
        if "inet" not in fields:
            continue
        interface = ipaddress.ip_interface(fields[fields.index("inet") + 1])
        if interface.ip in NETWORK:
            used.add(ipaddress.ip_network(f"{interface.ip}/{BLOCK_PREFIX}", strict=False))
    return used


class BackendNetwork:
    """A network namespace with a veth link to the host and addresses handed out on demand."""

    def __init__(self) -> None:
        self.name = ""
        self.host_address = ""
        self.host_link = ""
        self._inner_link = ""
        self._free: list[ipaddress.IPv4Address] = []
        self._atexit_registered = False

    def __enter__(self) -> "BackendNetwork":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self) -> None:
        if self.name:
            raise RuntimeError("BackendNetwork already started")
        cleanup_stale()
        pid = os.getpid()
        tag = secrets.token_hex(2)
        self.name = f"{NAME_PREFIX}{pid}-{tag}"
        self.host_link = f"{LINK_PREFIX}{pid & 0xFFFFFF:06x}{tag}h"
        self._inner_link = f"{LINK_PREFIX}{pid & 0xFFFFFF:06x}{tag}n"
        atexit.register(self.close)
        self._atexit_registered = True
        try:
            LOCK_PATH.parent.mkdir(parents=True, exist_ok=True)
            with open(LOCK_PATH, "a") as lock:
                # Held from picking a block until its host address is on the link, so two runs
                # never pick the same block.
                fcntl.flock(lock, fcntl.LOCK_EX)
                block = self._pick_block()
                self._create(block)
        except BaseException:
            self.close()
            raise

    def _pick_block(self) -> ipaddress.IPv4Network:
        used = _used_blocks()
        for block in NETWORK.subnets(new_prefix=BLOCK_PREFIX):
            if block not in used:
                return block
        raise NetnsError(f"every /{BLOCK_PREFIX} of {NETWORK} is in use on this machine")

    def _create(self, block: ipaddress.IPv4Network) -> None:
        hosts = list(block.hosts())
        self.host_address = str(hosts[0])
        self._free = hosts[1:]
        _ip("netns", "add", self.name)
        _ip("link", "add", self.host_link, "type", "veth", "peer", "name", self._inner_link)
        _ip("link", "set", self._inner_link, "netns", self.name)
        _ip("addr", "add", f"{self.host_address}/{BLOCK_PREFIX}", "dev", self.host_link)
        _ip("link", "set", self.host_link, "up")
        _ip("-n", self.name, "link", "set", "lo", "up")
        _ip("-n", self.name, "link", "set", self._inner_link, "up")

    def add_address(self) -> str:
        """A new address inside the namespace, ready to bind (no duplicate detection wait:
        IPv4 has none)."""
        if not self.name:
            raise RuntimeError("BackendNetwork not started")
        if not self._free:
            raise NetnsError(f"no addresses left in {self.name}'s /{BLOCK_PREFIX}")
        address = str(self._free.pop(0))
        _ip("-n", self.name, "addr", "add", f"{address}/{BLOCK_PREFIX}", "dev", self._inner_link)
        return address

    def wrap(self, argv: list) -> list[str]:
        """argv run inside the namespace (`ip netns exec` execs it: the pid stays the same)."""
        if not self.name:
            raise RuntimeError("BackendNetwork not started")
        return [shutil.which("ip") or "ip", "netns", "exec", self.name, *[str(a) for a in argv]]

    def close(self) -> None:
        """Kills what runs inside, deletes the namespace and the links; idempotent."""
        if self._atexit_registered:
            atexit.unregister(self.close)
            self._atexit_registered = False
        if not self.name:
            return
        _delete_namespace(self.name)
        if self.host_link and _ip("link", "show", self.host_link, check=False).returncode == 0:
            _ip("link", "del", self.host_link, check=False)
        self.name = ""

    def exists(self) -> bool:
        return bool(self.name) and _ip("netns", "pids", self.name, check=False).returncode == 0
