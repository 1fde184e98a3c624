"""The WebSocket idle timeout counts bytes in either direction: a silent tunnel is closed when it
passes, one kept alive only by client pings (and the pongs they draw) is not. A timeout of two
housekeeping intervals (20 s) or more is armed by the dataplane's first housekeeping pass rather
than when the tunnel starts; it must still close the tunnel on time."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import manifests as m

IDLE_S = 2.0
# At least two housekeeping intervals (10 s each): the timer is armed late, the deadline is not.
DEFERRED_IDLE_S = 20.0


def start_with_idle_timeout(stack, idle_s: float):
    backend = stack.start_backend("chat-idle")
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("chat", [backend.port]),
        m.ingress("app", [("/ws/", "chat")], annotations={"pier.dev/websocket-idle-timeout": f"{idle_s:g}s"})))
    return stack.start()


@pytest.fixture
def idle_stack(stack):
    return start_with_idle_timeout(stack, IDLE_S)


def test_silent_tunnel_closes_at_the_idle_timeout(idle_stack):
    with connect(idle_stack.url("/ws/echo", scheme="ws"), ping_interval=None, open_timeout=5) as ws:
        ws.send("wake")
        assert ws.recv(timeout=5) == "wake"
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=IDLE_S * 3)
        elapsed = time.monotonic() - started
    assert IDLE_S * 0.9 <= elapsed <= IDLE_S + 1.5, elapsed


def test_client_pings_alone_keep_the_tunnel_open(idle_stack):
    with connect(idle_stack.url("/ws/echo", scheme="ws"), ping_interval=None, open_timeout=5) as ws:
        deadline = time.monotonic() + IDLE_S * 2.5
        while time.monotonic() < deadline:
            pong = ws.ping()
            assert pong.wait(timeout=2), "pong not received: the tunnel died"
            time.sleep(IDLE_S / 4)
        # Still a working tunnel after 2.5 idle periods without a single data frame.
        ws.send("still here")
        assert ws.recv(timeout=5) == "still here"


def test_long_idle_timeout_armed_by_housekeeping_still_closes_on_time(stack):
    started_stack = start_with_idle_timeout(stack, DEFERRED_IDLE_S)
    with connect(started_stack.url("/ws/echo", scheme="ws"), ping_interval=None, open_timeout=5) as ws:
        ws.send("wake")
        assert ws.recv(timeout=5) == "wake"
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=DEFERRED_IDLE_S + 10)
        elapsed = time.monotonic() - started
    assert DEFERRED_IDLE_S * 0.95 <= elapsed <= DEFERRED_IDLE_S + 1.5, elapsed
