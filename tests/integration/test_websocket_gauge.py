"""pier_websocket_connections_active stays exact: however a tunnel ends (client close or reset,
upstream close or reset, idle timeout, drain), it leaves the per-route gauge exactly once and its
lifetime is observed exactly once. A double decrement would show as -1, a missed one as 1."""

from __future__ import annotations

import asyncio
import signal
import socket
import struct
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import manifests as m
from harness import PierStack, wait_until
from promtext import metric
from rawhttp import request
from recorder import Recorder, ok_json
from wsutil import ThreadedServer

IDLE_S = 1.0
SETTLE_S = 10.0
# After the gauge reaches its value, how long it must stay there (a late second decrement shows).
STEADY_S = 0.5
SLOW_RESPONSE_S = 4.0
DRAIN_TIMEOUT_S = 10


class ScriptedServer(ThreadedServer):
    """A WebSocket backend that echoes, except: "close" -> it closes (1000), "reset" -> it drops
    the TCP connection without a close frame."""

    async def _handler(self, ws):
        try:
            async for message in ws:
                if message == "close":
                    await ws.close(1000)
                elif message == "reset":
                    sock = ws.transport.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    ws.transport.abort()
                else:
                    await ws.send(message)
        except Exception:  # noqa: BLE001 - every way a connection ends is one of the test cases
            pass


def slow(req):
    if req.target == "/slow":
        time.sleep(SLOW_RESPONSE_S)
    return ok_json(req)


@pytest.fixture
def gauge_stack(stack):
    server = ScriptedServer()
    recorder = Recorder(slow)
    stack.dataplane_args = ["--drain-timeout", f"{DRAIN_TIMEOUT_S}s"]
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("ws", [server.port]), *m.service_with_backends("slow", [recorder.port]),
        m.ingress("tunnels", [("/ws/", "ws")]),
        m.ingress("idle", [("/idle/", "ws")], annotations={"pier.dev/websocket-idle-timeout": f"{IDLE_S:g}s"}),
        m.ingress("slow", [("/slow", "slow")])))
    stack.start()
    stack.slow_backend = recorder
    yield stack
    server.close()
    recorder.close()


def active(stack: PierStack, ingress: str) -> float:
    return metric(stack.admin_port, "pier_websocket_connections_active", ingress=ingress)


def lifetimes(stack: PierStack, ingress: str) -> float:
    return metric(stack.admin_port, "pier_websocket_connection_duration_seconds_count", ingress=ingress)


def open_tunnel(stack: PierStack, path: str) -> ClientConnection:
    ws = connect(stack.url(path, scheme="ws"), legacy=True, open_timeout=5, close_timeout=2, ping_interval=None)
    ws.send("hello")
    assert ws.recv(timeout=5) == "hello"
    return ws


def assert_settles(stack: PierStack, ingress: str, gauge: float, observed: float) -> None:
    wait_until(lambda: active(stack, ingress) == gauge and lifetimes(stack, ingress) == observed, SETTLE_S,
               f"{ingress}: gauge {gauge}, {observed} lifetimes observed", alive=stack.check_alive)
    time.sleep(STEADY_S)
    assert (active(stack, ingress), lifetimes(stack, ingress)) == (gauge, observed)


def reset(ws: ClientConnection) -> None:
    """Ends the client side with a TCP RST and no close frame."""
    ws.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.socket.close()


def wait_closed(ws: ClientConnection, timeout: float) -> None:
    with pytest.raises(ConnectionClosed):
        while True:
            ws.recv(timeout=timeout)


@pytest.mark.parametrize("ending", ["client close", "client reset", "upstream close", "upstream reset"])
def test_tunnel_leaves_the_gauge_once(gauge_stack, ending):
    stack = gauge_stack
    # Another tunnel stays open throughout: the ending must take exactly its own count away.
    bystander = open_tunnel(stack, "/ws/bystander")
    ws = open_tunnel(stack, "/ws/ending")
    assert_settles(stack, "tunnels", 2, 0)
    if ending == "client close":
        ws.close()
    elif ending == "client reset":
        reset(ws)
    else:
        ws.send(ending.split()[1])  # "close" or "reset"
        wait_closed(ws, 5)
    assert_settles(stack, "tunnels", 1, 1)
    bystander.close()
    assert_settles(stack, "tunnels", 0, 2)


def test_idle_timeout_leaves_the_gauge_once(gauge_stack):
    stack = gauge_stack
    ws = open_tunnel(stack, "/idle/x")
    assert_settles(stack, "idle", 1, 0)
    wait_closed(ws, IDLE_S * 5)
    assert_settles(stack, "idle", 0, 1)
    ws.close()


def test_drain_leaves_the_gauge_once(gauge_stack):
    stack = gauge_stack
    ws = open_tunnel(stack, "/ws/draining")
    assert_settles(stack, "tunnels", 1, 0)
    # An in-flight request keeps the draining process (and its /metrics) up after the tunnel ends.
    slow_result: dict = {}
    http_thread = threading.Thread(
        target=lambda: slow_result.update(response=request(stack.http_port, "GET", "/slow", timeout=10)))
    http_thread.start()
    try:
        wait_until(lambda: any(r.target == "/slow" for r in stack.slow_backend.requests()), 5,
                   "the slow request upstream", alive=stack.check_alive)
        stack.dataplane.popen.send_signal(signal.SIGTERM)
        wait_closed(ws, 5)
        assert ws.close_code == 1001
        assert_settles(stack, "tunnels", 0, 1)
    finally:
        http_thread.join(timeout=10)
    assert slow_result["response"].status == 200
    stack.dataplane.popen.wait(timeout=DRAIN_TIMEOUT_S)
