"""Connection limits, rate limits and access control, through the real binaries.

One stack serves most tests: a chat backend behind one Ingress per policy, each on its own host
(the client picks the policy with the Host header), so the tests do not share counters or
buckets. Different client addresses come from binding the client socket to 127.0.0.x.
The tests that need their own dataplane flags (--max-connections, a small descriptor limit)
start a stack of their own.
"""

from __future__ import annotations

import os
import re
import resource
import socket
import struct
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

import manifests as m
from harness import PierStack, binary, wait_until
from rawhttp import Connection, Response, format_request, request

UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket",
           "Sec-WebSocket-Key": "SGVsbG8sIHdvcmxkIQ==", "Sec-WebSocket-Version": "13"}

CONN_HOST = "conn.test"          # limit-connections 10
STORM_HOST = "storm.test"        # limit-connections 5, max-connections 12
RATE_HOST = "rate.test"          # limit-rps 20 (burst multiplier 5 by default)
ORIGIN_HOST = "origin.test"      # websocket-allowed-origins
ALLOW_HOST = "allow.test"        # allowlist-source-range without 127.0.0.1
ONLY_TWO_HOST = "only-two.test"  # allowlist-source-range 127.0.0.2/32
DENY_HOST = "deny.test"          # denylist-source-range 127.0.0.4
BAD_HOST = "bad.test"            # a malformed allowlist-source-range
GOOD_HOST = "good.test"          # no policy at all

STORM_PER_CLIENT = 5
STORM_PER_ROUTE = 12
RATE = 20
BURST_MULTIPLIER = 5
BUCKET = RATE * BURST_MULTIPLIER


# -- clients ---------------------------------------------------------------------------------

class SourceConnection(Connection):
    """rawhttp's Connection, from a chosen local address."""

    def __init__(self, port: int, source: str, timeout: float = 5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        self._reader = self.sock.makefile("rb")


def get(stack: PierStack, host: str, path: str = "/headers", source: str = "127.0.0.1",
        headers: Optional[dict] = None) -> Response:
    with SourceConnection(stack.http_port, source) as connection:
        connection.send(format_request("GET", path, {"Connection": "close", **(headers or {})}, host=host))
        return connection.read_response()


def open_ws(stack: PierStack, host: str, source: str = "127.0.0.1", origin: Optional[str] = None,
            path: str = "/ws/echo") -> ClientConnection:
    sock = socket.create_connection(("127.0.0.1", stack.http_port), timeout=5, source_address=(source, 0))
    try:
        return connect(f"ws://{host}{path}", sock=sock, origin=origin, proxy=None, legacy=True, open_timeout=5,
                       close_timeout=2)
    except BaseException:
        sock.close()
        raise


def refused_ws(stack: PierStack, host: str, **kwargs):
    """The HTTP response that refused a WebSocket handshake."""
    with pytest.raises(InvalidStatus) as refused:
        open_ws(stack, host, **kwargs).close()
    return refused.value.response


def echo(ws: ClientConnection, text: str) -> None:
    ws.send(text)
    assert ws.recv(timeout=5) == text


# -- metrics ---------------------------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metric(stack: PierStack, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`; KeyError when there are none
    (a missing series must not read as 0)."""
    text = request(stack.admin_port, "GET", "/metrics").text
    total = 0.0
    found = False
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match or match.group(1) != name:
            continue
        sample_labels = dict(_LABEL.findall(match.group(2) or ""))
        if all(sample_labels.get(key) == value for key, value in labels.items()):
            total += float(match.group(3))
            found = True
    if not found:
        raise KeyError(f"no sample of {name} with {labels}")
    return total


def rejected(stack: PierStack, reason: str) -> float:
    return metric(stack, "pier_connections_rejected_total", reason=reason)


def counted_connections(stack: PierStack) -> float:
    return metric(stack, "pier_limit_connections_active")


def wait_for_count(stack: PierStack, expected: float, timeout: float = 10.0) -> None:
    """Tunnels end asynchronously after the client closes: wait for the count to settle."""
    wait_until(lambda: counted_connections(stack) == expected, timeout,
               f"pier_limit_connections_active == {expected}", alive=stack.check_alive)


# -- the shared stack ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def limits_stack(module_launcher, tmp_path_factory) -> PierStack:
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("limits"))
    backend = stack.start_backend("chat-1")

    def ingress(name: str, host: str, annotations: dict) -> dict:
        return m.ingress(name, [("/", "chat")], annotations=annotations, host=host)

    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("ingresses.yaml", m.render(
        *m.service_with_backends("chat", [backend.port]),
        ingress("conn", CONN_HOST, {"pier.dev/limit-connections": "10"}),
        ingress("storm", STORM_HOST, {"pier.dev/limit-connections": str(STORM_PER_CLIENT),
                                      "pier.dev/max-connections": str(STORM_PER_ROUTE)}),
        ingress("rate", RATE_HOST, {"pier.dev/limit-rps": str(RATE)}),
        ingress("origin", ORIGIN_HOST, {
            "pier.dev/websocket-allowed-origins": "https://app.example.com,https://*.chat.example.com"}),
        ingress("allow", ALLOW_HOST, {"pier.dev/allowlist-source-range": "10.0.0.0/8,192.168.0.0/16"}),
        ingress("only-two", ONLY_TWO_HOST, {"pier.dev/allowlist-source-range": "127.0.0.2/32"}),
        ingress("deny", DENY_HOST, {"pier.dev/denylist-source-range": "127.0.0.4"}),
        ingress("bad", BAD_HOST, {"pier.dev/allowlist-source-range": "10.0.0.0/33"}),
        ingress("good", GOOD_HOST, {})))
    return stack.start()


# -- limit-connections -----------------------------------------------------------------------

def test_ten_websockets_per_client_the_eleventh_gets_429(limits_stack):
    stack = limits_stack
    before = rejected(stack, "limit_connections")
    opened: list[ClientConnection] = []
    try:
        for i in range(10):
            opened.append(open_ws(stack, CONN_HOST))
        for i, ws in enumerate(opened):  # all ten are real, working tunnels
            echo(ws, f"tunnel {i}")

        refusal = refused_ws(stack, CONN_HOST)
        assert refusal.status_code == 429
        assert b"too many connections from 127.0.0.1 (limit-connections 10)" in refusal.body
        assert rejected(stack, "limit_connections") == before + 1

        # Another client address has its own ten.
        other: list[ClientConnection] = []
        try:
            for _ in range(10):
                other.append(open_ws(stack, CONN_HOST, source="127.0.0.2"))
            assert refused_ws(stack, CONN_HOST, source="127.0.0.2").status_code == 429
            assert counted_connections(stack) == 20
        finally:
            for ws in other:
                ws.close()

        # The first ten stayed open through all of that.
        for i, ws in enumerate(opened):
            echo(ws, f"still here {i}")

        # Closing one lets exactly one more in.
        opened.pop().close()
        wait_for_count(stack, 9)
        opened.append(open_ws(stack, CONN_HOST))
        echo(opened[-1], "the new one")
        assert refused_ws(stack, CONN_HOST).status_code == 429
    finally:
        for ws in opened:
            ws.close()
    wait_for_count(stack, 0)


def test_limit_counts_plain_requests_in_flight_not_idle_connections(limits_stack):
    # limit-connections counts what is being served (nginx's limit_conn does the same): ten
    # idle keep-alive connections do not stop an eleventh request.
    stack = limits_stack
    connections = [SourceConnection(stack.http_port, "127.0.0.5") for _ in range(11)]
    try:
        for connection in connections:
            connection.send(format_request("GET", "/headers", host=CONN_HOST))
            assert connection.read_response().status == 200
    finally:
        for connection in connections:
            connection.close()


def _upgrade_and_reset(port: int, host: str, source: str) -> int:
    """A handshake by hand, then a reset instead of a close: the tunnel ends on an error."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    try:
        sock.sendall(format_request("GET", "/ws/echo", UPGRADE, host=host))
        status = int(sock.recv(64).split(b" ", 2)[1])
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return status
    finally:
        sock.close()


def _one_storm_connection(stack: PierStack, index: int) -> tuple[int, str]:
    source = ("127.0.0.7", "127.0.0.2", "127.0.0.6")[index % 3]
    kind = index % 4
    if kind == 0:  # a WebSocket, one message, a clean close
        try:
            with open_ws(stack, STORM_HOST, source=source) as ws:
                echo(ws, f"storm {index}")
            return 101, ""
        except InvalidStatus as refused:
            return refused.response.status_code, refused.response.body.decode()
    if kind == 1:  # a WebSocket whose client resets the connection
        return _upgrade_and_reset(stack.http_port, STORM_HOST, source), ""
    if kind == 2:  # a WebSocket that the client drops without a close frame
        try:
            ws = open_ws(stack, STORM_HOST, source=source)
        except InvalidStatus as refused:
            return refused.response.status_code, refused.response.body.decode()
        ws.socket.shutdown(socket.SHUT_RDWR)
        try:
            ws.close()  # finds the socket dead: no close handshake reaches the proxy
        except (OSError, ConnectionClosed):
            pass
        return 101, ""
    response = get(stack, STORM_HOST, source=source)  # plain HTTP
    return response.status, response.text


@pytest.mark.timeout(240)
def test_a_thousand_concurrent_connections_leave_no_count_behind(limits_stack):
    stack = limits_stack
    before = {reason: rejected(stack, reason) for reason in ("limit_connections", "max_connections")}
    # 127.0.0.7 starts with its whole allowance in use: every storm connection from it is refused,
    # so the refusal paths run for certain, whatever the timing.
    held = [open_ws(stack, STORM_HOST, source="127.0.0.7") for _ in range(STORM_PER_CLIENT)]
    peak = 0.0
    storming = True

    def watch() -> None:
        nonlocal peak
        while storming:
            peak = max(peak, counted_connections(stack))
            time.sleep(0.01)

    try:
        with ThreadPoolExecutor(max_workers=25) as pool:
            watcher = pool.submit(watch)
            try:
                results = list(pool.map(lambda i: _one_storm_connection(stack, i), range(1000)))
            finally:
                storming = False
            watcher.result()
    finally:
        for ws in held:
            ws.close()

    statuses = [status for status, _ in results]
    assert set(statuses) <= {101, 200, 429}, sorted(set(statuses))
    assert statuses.count(429) >= 1000 // 3 and 101 in statuses and 200 in statuses
    # Never more counted than the route allows, at any moment anyone looked.
    assert STORM_PER_CLIENT <= peak <= STORM_PER_ROUTE
    per_client = sum(1 for status, body in results if status == 429 and "limit-connections" in body)
    per_route = sum(1 for status, body in results if status == 429 and "max-connections" in body)
    refused_by_reset = sum(1 for i, (status, _) in enumerate(results) if status == 429 and i % 4 == 1)
    assert per_client >= 1
    # Every refusal was counted under its reason (the raw handshakes' bodies were not read).
    counted = (rejected(stack, "limit_connections") - before["limit_connections"] +
               rejected(stack, "max_connections") - before["max_connections"])
    assert counted == per_client + per_route + refused_by_reset

    # Whatever ended how: nothing is counted any more, and the tables are empty.
    wait_for_count(stack, 0, timeout=20)
    assert metric(stack, "pier_limit_entries", table="connections") == 0
    # ... and the limits still work afterwards.
    with open_ws(stack, STORM_HOST, source="127.0.0.7") as ws:
        echo(ws, "after the storm")


# -- limit-rps ------------------------------------------------------------------------------

def test_rate_limit_allows_the_burst_plus_the_rate_then_429_with_retry_after(limits_stack):
    stack = limits_stack
    before = rejected(stack, "rate_limited")
    statuses: list[int] = []
    refusals: list[Response] = []
    interval = 1.0 / 200
    with SourceConnection(stack.http_port, "127.0.0.3") as connection:
        first_sent = time.monotonic()
        first_answered = last_sent = 0.0
        for i in range(200):
            delay = first_sent + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            last_sent = time.monotonic()
            connection.send(format_request("GET", "/headers", host=RATE_HOST))
            response = connection.read_response()
            if i == 0:
                first_answered = time.monotonic()
            statuses.append(response.status)
            if response.status == 429:
                refusals.append(response)
        last_answered = time.monotonic()

    accepted = statuses.count(200)
    assert accepted + len(refusals) == 200, sorted(set(statuses))
    # Bucket math: the first request finds a full bucket of rate x multiplier tokens, and the
    # rate refills it between the first and the last request. That span lies between what the
    # client saw of it from inside (first answer .. last send) and from outside.
    inner = max(0.0, last_sent - first_answered)
    outer = last_answered - first_sent
    low = min(200, BUCKET + int(RATE * inner) - 1)
    high = BUCKET + int(RATE * outer) + 1
    assert low <= accepted <= high, (accepted, inner, outer)
    if outer <= 1.2:  # the usual case: about 20 x (1 + 5) in one second
        assert accepted <= RATE * (1 + BURST_MULTIPLIER) + 5
    for refusal in refusals:
        assert refusal.header("retry-after") == "1"  # one token comes every 50 ms: rounded up to 1 s
        assert refusal.text.startswith("rate limit of 20 requests per second exceeded for 127.0.0.3")
    assert rejected(stack, "rate_limited") == before + len(refusals)

    # Another client has its own bucket.
    assert get(stack, RATE_HOST, source="127.0.0.1").status == 200


# -- websocket-allowed-origins ---------------------------------------------------------------

def test_allowed_origins_get_101_others_and_none_get_403(limits_stack):
    stack = limits_stack
    before = rejected(stack, "origin_not_allowed")
    for origin in ("https://app.example.com", "https://APP.example.com:443", "https://eu.chat.example.com"):
        with open_ws(stack, ORIGIN_HOST, origin=origin) as ws:
            echo(ws, origin)

    for origin in ("https://evil.example.com", "http://app.example.com", "https://app.example.com:8443",
                   "https://a.eu.chat.example.com", "null"):
        refusal = refused_ws(stack, ORIGIN_HOST, origin=origin)
        assert refusal.status_code == 403, origin
        assert f"origin {origin} is not in websocket-allowed-origins".encode() in refusal.body

    # websockets always sends an Origin when asked to; without one, a raw handshake.
    with Connection(stack.http_port) as connection:
        connection.send(format_request("GET", "/ws/echo", UPGRADE, host=ORIGIN_HOST))
        refusal = connection.read_response()
    assert refusal.status == 403
    assert "without an Origin header" in refusal.text
    assert rejected(stack, "origin_not_allowed") == before + 6

    # Plain requests are not WebSocket handshakes: the Origin list does not apply.
    assert get(stack, ORIGIN_HOST).status == 200


# -- source ranges ---------------------------------------------------------------------------

def test_allowlist_without_the_client_gives_403(limits_stack):
    stack = limits_stack
    before = rejected(stack, "denied_source")
    response = get(stack, ALLOW_HOST)
    assert response.status == 403
    assert response.text == "client 127.0.0.1 is not in allowlist-source-range\n"
    refusal = refused_ws(stack, ALLOW_HOST)
    assert refusal.status_code == 403

    assert get(stack, ONLY_TWO_HOST, source="127.0.0.2").status == 200
    assert get(stack, ONLY_TWO_HOST, source="127.0.0.1").status == 403
    assert get(stack, DENY_HOST, source="127.0.0.1").status == 200
    denied = get(stack, DENY_HOST, source="127.0.0.4")
    assert denied.status == 403
    assert denied.text == "client 127.0.0.4 is denied by denylist-source-range\n"
    assert rejected(stack, "denied_source") == before + 4


def test_malformed_allowlist_fails_closed_with_a_warning_and_others_keep_working(limits_stack):
    stack = limits_stack
    response = get(stack, BAD_HOST)
    assert response.status == 403
    assert "invalid annotation pier.dev/allowlist-source-range" in response.text
    assert refused_ws(stack, BAD_HOST).status_code == 403

    wait_until(lambda: re.search(r"InvalidAnnotation: ingress default/bad: .*allowlist-source-range",
                                 stack.controller.log_text()),
               5, "the controller's warning about ingress default/bad")
    assert "InvalidAnnotation: ingress default/good" not in stack.controller.log_text()

    assert get(stack, GOOD_HOST).status == 200
    with open_ws(stack, GOOD_HOST) as ws:
        echo(ws, "unaffected")


# -- global limits (their own dataplane) -----------------------------------------------------

def _simple_stack(stack: PierStack) -> None:
    backend = stack.start_backend("chat-1")
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("chat.yaml", m.render(*m.service_with_backends("chat", [backend.port]),
                                               m.ingress("chat", [("/", "chat")])))
    stack.start_controller()


def _closed_without_answer(sock: socket.socket) -> bool:
    """True when the server closes the connection without sending anything."""
    try:
        sock.sendall(format_request("GET", "/headers"))
        return sock.recv(1024) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_global_max_connections_closes_new_connections_at_accept(stack):
    _simple_stack(stack)
    stack.start_dataplane(extra_args=["--max-connections", "5"])
    stack.wait_ready()

    held = [socket.create_connection(("127.0.0.1", stack.http_port), timeout=5) for _ in range(5)]
    try:
        wait_until(lambda: metric(stack, "pier_connections_active", listener="http") == 5, 5,
                   "five accepted connections")
        with socket.create_connection(("127.0.0.1", stack.http_port), timeout=5) as sixth:
            assert _closed_without_answer(sixth)
        assert rejected(stack, "max_connections") >= 1

        held.pop().close()
        wait_until(lambda: metric(stack, "pier_connections_active", listener="http") == 4, 5,
                   "the closed connection to be gone")
        assert stack.get("/headers").status == 200
    finally:
        for sock in held:
            sock.close()


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.timeout(90)
def _dataplane_links_ubsan() -> bool:
    try:
        path = binary("pier-dataplane")
    except FileNotFoundError:
        return False  # the test itself then says what is missing
    dynamic = subprocess.run(["readelf", "--dynamic", str(path)], capture_output=True, text=True, check=True).stdout
    return "libubsan" in dynamic


# UBSan's vptr check probes a vtable's memory by writing it into a pipe; with every descriptor
# taken the pipe cannot be made and the check reports "invalid vptr" for a perfectly good object
# and aborts (seen in fmt's buffer constructor). Runtime suppressions do not help: matching one
# needs the dynamic type the failed probe could not read. The release build runs this test.
@pytest.mark.skipif(_dataplane_links_ubsan(),
                    reason="UBSan's vptr check cannot probe memory without a free descriptor")
def test_descriptor_exhaustion_pauses_accepting_and_recovers(stack):
    _simple_stack(stack)
    stack.start_dataplane()
    stack.wait_ready()
    assert stack.get("/headers").status == 200
    pid = stack.dataplane.pid

    # Room for a few more descriptors only: the next connections find accept() failing.
    spare = 6
    waiting_count = 6
    limit = _open_fds(pid) + spare
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
    clients = [socket.create_connection(("127.0.0.1", stack.http_port), timeout=5)
               for _ in range(spare + waiting_count)]
    try:
        wait_until(lambda: "pausing accepts until descriptors are free" in stack.dataplane.log_text(), 10,
                   "the dataplane to report descriptor exhaustion", alive=stack.check_alive)
        time.sleep(0.3)  # a few retry rounds while exhausted
        stack.check_alive()

        # Freeing descriptors lets the waiting connections in and they are served normally.
        # All but one waiting connection go too, so the last one's request finds a descriptor
        # for its upstream connection.
        for sock in clients[:-1]:
            sock.close()
        waiting = clients[-1]
        waiting.sendall(format_request("GET", "/headers", {"Connection": "close"}))
        answer = waiting.recv(64)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        wait_until(lambda: "descriptors available again" in stack.dataplane.log_text(), 5, "recovery log line")
    finally:
        for sock in clients:
            sock.close()
    assert rejected(stack, "fd_exhausted") >= 1
    assert stack.get("/headers").status == 200
