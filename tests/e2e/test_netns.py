"""netns.BackendNetwork: reachable from the host, isolated per run, and always cleaned up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

import netns

pytestmark = pytest.mark.timeout(60)

SERVER = ("import socket, sys\n"
          "s = socket.create_server((sys.argv[1], 8080))\n"
          "while True:\n"
          "    c, _ = s.accept(); c.sendall(sys.argv[1].encode()); c.close()\n")


@pytest.fixture(autouse=True)
def needs_netns():
    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(reason)


def namespaces() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, text=True,
                             check=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def links() -> str:
    return subprocess.run(["ip", "-o", "link", "show"], stdout=subprocess.PIPE, text=True,
                          check=True).stdout


def start_server(network: netns.BackendNetwork, address: str) -> subprocess.Popen:
    return subprocess.Popen(network.wrap([sys.executable, "-c", SERVER, address]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_from(address: str, timeout: float = 10.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, 8080), timeout=2) as sock:
                return sock.recv(100)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_addresses_are_reachable_from_the_host_and_close_removes_everything():
    with netns.BackendNetwork() as network:
        name, host_link = network.name, network.host_link
        first, second = network.add_address(), network.add_address()
        assert first != second and network.host_address not in (first, second)
        for address in (first, second):
            assert not address.startswith("127.")
        servers = [start_server(network, first), start_server(network, second)]
        assert read_from(first) == first.encode()
        assert read_from(second) == second.encode()
        assert name in namespaces()
    # The servers were killed with the namespace, and the veth pair is gone.
    for server in servers:
        assert server.wait(timeout=5) == -9
    assert name not in namespaces()
    assert host_link not in links()


def test_two_networks_at_once_get_separate_blocks():
    with netns.BackendNetwork() as one, netns.BackendNetwork() as two:
        assert one.name != two.name
        assert one.host_address != two.host_address
        a, b = one.add_address(), two.add_address()
        servers = [start_server(one, a), start_server(two, b)]
        assert read_from(a) == a.encode()
        assert read_from(b) == b.encode()
    for server in servers:
        server.wait(timeout=5)


def test_leftovers_of_a_dead_run_are_removed():
    # A run that died: a namespace named after a pid that no longer exists, with a process
    # still inside and its veth pair in place.
    child = subprocess.Popen(["true"])
    child.wait()
    dead_pid = child.pid
    stale = f"{netns.NAME_PREFIX}{dead_pid}-dead"
    host_link = f"{netns.LINK_PREFIX}{dead_pid & 0xFFFFFF:06x}dea0h"
    inner_link = f"{netns.LINK_PREFIX}{dead_pid & 0xFFFFFF:06x}dea0n"
    subprocess.run(["ip", "netns", "add", stale], check=True)
    subprocess.run(["ip", "link", "add", host_link, "type", "veth", "peer", "name", inner_link],
                   check=True)
    sleeper = subprocess.Popen(["ip", "netns", "exec", stale, "sleep", "60"])
    try:
        time.sleep(0.2)
        removed = netns.cleanup_stale()
        assert stale in removed and host_link in removed
        assert stale not in namespaces()
        assert host_link not in links()
        assert sleeper.wait(timeout=5) == -9
    finally:
        sleeper.kill()
        subprocess.run(["ip", "netns", "del", stale], check=False, stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", host_link], check=False, stderr=subprocess.DEVNULL)


def test_a_live_runs_network_is_left_alone():
    with netns.BackendNetwork() as network:
        netns.cleanup_stale()
        assert network.name in namespaces()
        assert os.getpid() == int(network.name.split("-")[2])
