"""Graceful drain on SIGTERM: /readyz turns 503 at once, in-flight HTTP finishes, and every
WebSocket gets a close frame 1001 from the proxy - the client an unmasked one, the upstream a
masked one - before the process exits."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import threading
import time

from websockets.asyncio.client import connect

import manifests as m
from harness import wait_until
from rawhttp import request
from recorder import Recorder, ok_json
from wsutil import EchoServer, LoopThread

TUNNELS = 50
SLOW_RESPONSE_S = 2.0
DRAIN_TIMEOUT_S = 15


def slow(req):
    if req.target == "/slow":
        time.sleep(SLOW_RESPONSE_S)
    return ok_json(req)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_sends_1001_to_every_tunnel_and_finishes_http(stack):
    echo = EchoServer()
    recorder = Recorder(slow)
    loop = LoopThread()
    try:
        stack.dataplane_args = ["--drain-timeout", f"{DRAIN_TIMEOUT_S}s"]
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(
            *m.service_with_backends("echo", [echo.port]), *m.service_with_backends("slow", [recorder.port]),
            m.ingress("app", [("/ws/", "echo"), ("/slow", "slow")])))
        stack.start()

        async def open_all():
            sockets = [await connect(stack.url(f"/ws/{i}", scheme="ws"), ping_interval=None, open_timeout=10)
                       for i in range(TUNNELS)]
            for i, ws in enumerate(sockets):
                await ws.send(f"hello {i}")
            for i, ws in enumerate(sockets):
                assert await asyncio.wait_for(ws.recv(), 5) == f"hello {i}"
            return sockets

        sockets = loop.run(open_all(), timeout=60)
        closed_at: list[float] = []

        async def wait_close(ws):
            # Anything the proxy forwards before its close frame is still delivered; then the
            # close frame ends the iteration.
            async for _ in ws:
                pass
            closed_at.append(time.monotonic())
            return ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None

        closes = [loop.submit(wait_close(ws)) for ws in sockets]

        slow_result: dict = {}

        def in_flight():
            slow_result["response"] = request(stack.http_port, "GET", "/slow", timeout=10)

        http_thread = threading.Thread(target=in_flight)
        http_thread.start()
        wait_until(lambda: any(r.target == "/slow" for r in recorder.requests()), 5, "the slow request upstream")

        stack.dataplane.popen.send_signal(signal.SIGTERM)
        wait_until(lambda: request(stack.admin_port, "GET", "/readyz", timeout=1).status == 503, 2,
                   "/readyz to answer 503 during the drain", interval=0.02)

        wait_until(lambda: refused(stack.http_port), 2, "the listener to stop accepting", interval=0.02)

        codes = [future.result(timeout=DRAIN_TIMEOUT_S) for future in closes]
        assert codes == [1001] * TUNNELS, codes

        http_thread.join(timeout=10)
        assert slow_result["response"].status == 200, "the in-flight request must finish"

        stack.dataplane.popen.wait(timeout=DRAIN_TIMEOUT_S)
        exited_at = time.monotonic()
        assert stack.dataplane.popen.returncode == 0
        assert max(closed_at) <= exited_at

        # The upstream side got the proxy's masked close 1001 on every tunnel.
        wait_until(lambda: len(echo.closed) == TUNNELS, 5, "every upstream connection to end")
        assert sorted(c.code for c in echo.closed) == [1001] * TUNNELS

        # One access-log line per tunnel, closed cleanly by the drain (not by its timeout).
        lines = [json.loads(line) for line in stack.dataplane.log_text().splitlines()
                 if line.startswith('{"ts"') and '"type":"websocket"' in line]
        assert len(lines) == TUNNELS
        assert {line["close_reason"] for line in lines} == {"draining"}
        assert {line["close_initiator"] for line in lines} == {"proxy"}
        assert {line["close_code"] for line in lines} == {1001}
        assert all(line["messages_in"] == 1 and line["messages_out"] == 1 for line in lines)
    finally:
        loop.close()
        echo.close()
        recorder.close()


def test_a_second_sigterm_during_the_drain_exits_at_once(stack):
    recorder = Recorder(slow)
    try:
        # A drain that would wait for the slow request (2 s) and up to 15 s in all.
        stack.dataplane_args = ["--drain-timeout", f"{DRAIN_TIMEOUT_S}s"]
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(*m.service_with_backends("slow", [recorder.port]),
                                                  m.ingress("app", [("/slow", "slow")])))
        stack.start()
        outcome: dict = {}

        def in_flight():
            try:
                outcome["status"] = request(stack.http_port, "GET", "/slow", timeout=10).status
            except (OSError, ValueError) as error:  # the exit cuts the connection
                outcome["error"] = error

        http_thread = threading.Thread(target=in_flight)
        http_thread.start()
        wait_until(lambda: any(r.target == "/slow" for r in recorder.requests()), 5, "the slow request upstream")

        stack.dataplane.popen.send_signal(signal.SIGTERM)
        wait_until(lambda: "draining" in stack.dataplane.log_text(), 2, "the drain to start", interval=0.02)
        sent = time.monotonic()
        stack.dataplane.popen.send_signal(signal.SIGTERM)
        stack.dataplane.popen.wait(timeout=SLOW_RESPONSE_S)
        assert time.monotonic() - sent < 1.0
        assert stack.dataplane.popen.returncode == 1
        assert "received again: exiting without finishing the drain" in stack.dataplane.log_text()
        http_thread.join(timeout=10)
        assert "error" in outcome, f"the request was cut, not finished: {outcome}"
    finally:
        recorder.close()
