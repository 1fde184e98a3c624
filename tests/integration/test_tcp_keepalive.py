"""--tcp-keepalive turns on TCP keepalive probes on both legs of a proxied connection, so a peer
that vanished without a FIN is eventually found and its tunnel closed. Checked with `ss`, which
shows the kernel's keepalive timer on each socket."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from websockets.sync.client import connect

import manifests as m
from harness import wait_until

KEEPALIVE_S = 7
HOUSEKEEPING_S = 10  # Worker::kHousekeepingInterval


def keepalive_timers(filter_expr: str) -> list[str]:
    out = subprocess.run(["ss", "-tnoH", "state", "established", filter_expr], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    return re.findall(r"timer:\((\w+),", out)


def start(stack, backend_name: str, keepalive: str, path: str):
    """A dataplane with --tcp-keepalive `keepalive` routing `path` to a new backend."""
    backend = stack.start_backend(backend_name)
    stack.dataplane_args = ["--tcp-keepalive", keepalive]
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(*m.service_with_backends("app", [backend.port]),
                                              m.ingress("app", [(path, "app")])))
    stack.start()
    return backend


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) is not installed")
def test_both_legs_of_a_tunnel_have_keepalive(stack):
    backend = start(stack, "chat-keepalive", f"{KEEPALIVE_S}s", "/ws/")
    with connect(stack.url("/ws/echo", scheme="ws"), ping_interval=None, open_timeout=5) as ws:
        ws.send("x")
        assert ws.recv(timeout=5) == "x"
        # The dataplane's accepted socket (source port = its listener) and its upstream socket
        # (destination port = the backend's). Until the last segment is acknowledged `ss` shows
        # the retransmission timer instead ("on"), hence the wait.
        wait_until(lambda: keepalive_timers(f"( sport = :{stack.http_port} )") == ["keepalive"], 3,
                   "the client-side socket's keepalive timer")
        # A WebSocket's upstream socket gets its keepalive at the worker's next housekeeping
        # pass (every 10 s), which short-lived connections never reach.
        wait_until(lambda: "keepalive" in keepalive_timers(f"( dport = :{backend.port} )"), HOUSEKEEPING_S + 5,
                   "the upstream socket's keepalive timer")


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) is not installed")
def test_a_plain_requests_upstream_connection_has_keepalive_at_once(stack):
    backend = start(stack, "http-keepalive", f"{KEEPALIVE_S}s", "/")
    assert stack.get("/healthz").status == 200
    # The pooled upstream connection stays open, with probes from the start: the pool may hand
    # it to any later request, however long that one runs.
    wait_until(lambda: keepalive_timers(f"( dport = :{backend.port} )") == ["keepalive"], 3,
               "the pooled upstream socket's keepalive timer")


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) is not installed")
def test_keepalive_can_be_turned_off(stack):
    start(stack, "chat-no-keepalive", "0", "/ws/")
    with connect(stack.url("/ws/echo", scheme="ws"), ping_interval=None, open_timeout=5) as ws:
        ws.send("x")
        assert ws.recv(timeout=5) == "x"
        wait_until(lambda: keepalive_timers(f"( sport = :{stack.http_port} )") == [], 3,
                   "no timer at all on the idle client-side socket")
