"""limit-rate and limit-rate-after (under nginx.ingress.kubernetes.io/ or pier.dev/): nginx's
limit_rate and limit_rate_after, as ingress-nginx writes them (an integer is KiB, per second for
limit-rate; a size with a unit, `200k`, is read as such; 0 is no limit).

After the first limit-rate-after bytes of a response (its head and body as written to the
client) the rest reaches the client at most at the rate, as nginx's write filter paces it: by
t seconds after the request the client may have had at most after + rate * (t + 1) bytes, and
after each write past `after` the next waits until those bytes are due at the rate (which takes
the second's head start back at once). So a response of N bytes in all ends no earlier than
(N - after) / rate - 1 seconds after the request (`ideal()` below); the tests take at least 80 %
of that (a paced response cannot be early) and at most 2 s more (a loaded machine is slow, never
fast). Each response is paced on its own (the next one on a keep-alive connection starts
afresh); WebSocket tunnels are never slowed; an invalid value is reported (InvalidAnnotation)
and ignored, the route serving unlimited.

A backend in this process (recorder.py) answers GET .../N with the first N bytes of one random
MiB, at full speed; a raw-socket client notes when each piece of the body arrives. Without a
limit 600 KiB cross loopback in milliseconds (the tests allow 0.5 s); with limit-rate 200 they
take about 3 s, as with nginx. Real nginx with limit_rate / limit_rate_after proxying the same backend takes
as long as Pier for the same downloads (within 25 % or 0.5 s).
"""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest
from websockets.sync.client import connect

import manifests as m
import tlsutil as t
from harness import PierStack, wait_until
from nginxutil import NGINX, start_nginx
from recorder import RecordedRequest, Recorder
from wsutil import EchoServer

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"

KIB = 1024
BODY = random.Random(20240611).randbytes(1024 * KIB)  # every answer is a prefix of it

SNAPSHOT_TIMEOUT_S = 10
WARNING_TIMEOUT_S = 10
DOWNLOAD_TIMEOUT_S = 15      # a whole download, however slow
UNLIMITED_MAX_S = 0.5        # 600 KiB on loopback without a limit: milliseconds in practice
EARLIEST = 0.8               # a paced download takes at least this share of ideal()
LATEST_EXTRA_S = 2.0         # and at most this much longer
NGINX_SHARE, NGINX_SLACK_S = 0.25, 0.5  # Pier within 25 % (or 0.5 s) of nginx

# Hosts, one Ingress each.
PLAIN = "plain.test"         # no annotation
RATE = "rate.test"           # pier.dev/limit-rate "200"; also /ws to the WebSocket echo server
AFTER = "after.test"         # limit-rate-after "400", limit-rate "100" (nginx.ingress.kubernetes.io/)
SIZE = "size.test"           # limit-rate "200k" (nginx.ingress.kubernetes.io/)
SLOW = "slow.test"           # pier.dev/limit-rate "1": a small answer is already whole in the proxy
FAST = "fast.test"           # pier.dev/limit-rate "fast": invalid
NEGATIVE = "negative.test"   # limit-rate "-1" (nginx.ingress.kubernetes.io/): invalid

INGRESSES = {
    # host: (Ingress name, annotations)
    PLAIN: ("plain", {}),
    RATE: ("rate", {PIER_PREFIX + "limit-rate": "200"}),
    AFTER: ("after", {NGINX_PREFIX + "limit-rate-after": "400", NGINX_PREFIX + "limit-rate": "100"}),
    SIZE: ("size", {NGINX_PREFIX + "limit-rate": "200k"}),
    SLOW: ("slow", {PIER_PREFIX + "limit-rate": "1"}),
    FAST: ("fast", {PIER_PREFIX + "limit-rate": "fast"}),
    NEGATIVE: ("negative", {NGINX_PREFIX + "limit-rate": "-1"}),
}
INVALID = {FAST: (PIER_PREFIX + "limit-rate", "fast"), NEGATIVE: (NGINX_PREFIX + "limit-rate", "-1")}


# -- the backend ---------------------------------------------------------------------------------

def answer_bytes(request: RecordedRequest) -> bytes:
    """GET .../N: 200 with the first N bytes of BODY."""
    size = int(request.target.rsplit("/", 1)[1])
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: " + str(size).encode() + b"\r\n\r\n" + BODY[:size])


# -- the client ----------------------------------------------------------------------------------

@dataclass
class Download:
    status: int
    head: bytes = field(repr=False)    # the response head as received, blank line included
    body: bytes = field(repr=False)
    # (seconds since the request went out, body bytes so far), after each read
    arrivals: list[tuple[float, int]] = field(repr=False)

    @property
    def duration(self) -> float:
        """When the last byte arrived, in seconds since the request went out."""
        return self.arrivals[-1][0]

    @property
    def total(self) -> int:
        """Bytes the proxy wrote for this response: what limit-rate counts."""
        return len(self.head) + len(self.body)

    def time_to(self, body_bytes: int) -> float:
        """When the client had the first `body_bytes` bytes of the body."""
        return next(at for at, received in self.arrivals if received >= body_bytes)


class Client:
    """One keep-alive connection that times each download on it."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DOWNLOAD_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()

    def _recv(self, deadline: float) -> bytes:
        if time.monotonic() > deadline:
            raise TimeoutError(f"download not done in {DOWNLOAD_TIMEOUT_S} s")
        data = self.sock.recv(256 * KIB)
        if not data:
            raise ConnectionError("connection closed before the whole response")
        return data

    def get(self, host: str, path: str) -> Download:
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        started = time.monotonic()
        deadline = started + DOWNLOAD_TIMEOUT_S
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv(deadline)
        end = self.buffer.index(b"\r\n\r\n") + 4
        head, rest = self.buffer[:end], self.buffer[end:]
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in lines[1:] if line)}
        assert "content-length" in headers, head
        length = int(headers["content-length"])
        body = bytearray(rest[:length])
        arrivals = [(time.monotonic() - started, len(body))]
        while len(body) < length:
            data = self._recv(deadline)
            arrivals.append((time.monotonic() - started, min(length, len(body) + len(data))))
            body += data
        self.buffer = bytes(body[length:])
        return Download(status, head, bytes(body[:length]), arrivals)


def download(port: int, host: str, size: int, prefix: str = "") -> Download:
    with Client(port) as client:
        return client.get(host, f"{prefix}/bytes/{size}")


def ideal(got: Download, rate_kib: int, after_kib: int = 0) -> float:
    """nginx's formula: the seconds after the request at which after + rate * (t + 1) reaches the
    whole response."""
    return max(0.0, (got.total - after_kib * KIB) / (rate_kib * KIB) - 1)


def assert_intact(got: Download, size: int) -> None:
    assert got.status == 200, got.head
    assert len(got.body) == size and got.body == BODY[:size], "the body is not the backend's"


def assert_never_ahead(got: Download, rate_kib: int, after_kib: int = 0) -> None:
    """The limit is exact: whenever the client had read some of the response, the proxy had sent
    no more than after + rate * (t + 1), t counted from the request. The client notes t after each
    read, later than the proxy wrote those bytes, so the check errs on the proxy's side."""
    head = len(got.head)
    for at, body_bytes in got.arrivals:
        allowed = after_kib * KIB + rate_kib * KIB * (at + 1)
        assert head + body_bytes <= allowed, \
            f"{head + body_bytes} bytes by {at:.3f} s, nginx's formula allows {allowed:.0f}"


def assert_paced(got: Download, rate_kib: int, after_kib: int = 0) -> None:
    expected = ideal(got, rate_kib, after_kib)
    assert EARLIEST * expected <= got.duration <= expected + LATEST_EXTRA_S, \
        f"took {got.duration:.3f} s, nginx's formula says {expected:.3f} s"
    assert_never_ahead(got, rate_kib, after_kib)


# -- the stack -----------------------------------------------------------------------------------

@dataclass
class Env:
    stack: PierStack
    backend: Recorder
    echo: EchoServer

    @property
    def port(self) -> int:
        return self.stack.http_port


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory) -> Env:
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("limit-rate"))
    backend = Recorder(respond=answer_bytes)
    echo = EchoServer()
    ingresses = []
    for host, (name, annotations) in INGRESSES.items():
        paths = [("/ws", "echo"), ("/", "bulk")] if host == RATE else [("/", "bulk")]
        ingresses.append(m.ingress(name, paths, annotations, host=host))
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(*m.service_with_backends("bulk", [backend.port]),
                                              *m.service_with_backends("echo", [echo.port]), *ingresses))
    stack.start()
    ready = Env(stack, backend, echo)
    for host in INGRESSES:
        wait_until(lambda: download(ready.port, host, 10).status == 200, SNAPSHOT_TIMEOUT_S,
                   f"{host} served", alive=stack.check_alive)
    yield ready
    echo.close()
    backend.close()


# -- the tests -----------------------------------------------------------------------------------

def test_without_the_annotation_a_download_is_not_slowed(env):
    got = download(env.port, PLAIN, 600 * KIB)
    assert_intact(got, 600 * KIB)
    assert got.duration < UNLIMITED_MAX_S, got.duration
    print(f"\nunlimited: {got.duration:.3f} s")


def test_limit_rate_paces_the_download(env):
    got = download(env.port, RATE, 600 * KIB)
    assert_intact(got, 600 * KIB)
    assert_paced(got, 200)
    # No second's worth at once (nginx takes it back after the first write): 300 KiB take over a second.
    assert got.time_to(300 * KIB) >= 0.8, got.time_to(300 * KIB)
    print(f"\nlimit-rate 200, 600 KiB: {got.duration:.3f} s (ideal {ideal(got, 200):.3f} s)")


def test_limit_rate_after_lets_the_first_bytes_through(env):
    got = download(env.port, AFTER, 700 * KIB)
    assert_intact(got, 700 * KIB)
    assert got.time_to(400 * KIB) < UNLIMITED_MAX_S, got.time_to(400 * KIB)
    assert_paced(got, 100, 400)
    # The rest at 100 KiB/s: the last 200 KiB take 2 s.
    tail = got.duration - got.time_to(500 * KIB)
    assert EARLIEST * 2.0 <= tail <= 2.0 + LATEST_EXTRA_S, tail
    print(f"\nlimit-rate-after 400, limit-rate 100, 700 KiB: 400 KiB at {got.time_to(400 * KIB):.3f} s, "
          f"all at {got.duration:.3f} s (ideal {ideal(got, 100, 400):.3f} s)")


def test_a_size_is_read_as_such(env):
    got = download(env.port, SIZE, 600 * KIB)
    assert_intact(got, 600 * KIB)
    assert_paced(got, 200)
    print(f"\nlimit-rate 200k, 600 KiB: {got.duration:.3f} s (ideal {ideal(got, 200):.3f} s)")


def test_a_small_answer_already_in_the_proxy_is_paced_head_and_all(env):
    # The backend's whole answer (3 KiB) comes in one segment, so the proxy has all of it before
    # writing anything: the head and the body's first piece then go out in one write, and that
    # write is held to the allowance too (1 KiB in the first second, head included).
    got = download(env.port, SLOW, 3 * KIB)
    assert_intact(got, 3 * KIB)
    assert_paced(got, 1)
    assert got.time_to(3 * KIB) >= EARLIEST * ideal(got, 1), got.arrivals
    print(f"\nlimit-rate 1, 3 KiB: {got.duration:.3f} s (ideal {ideal(got, 1):.3f} s), "
          f"{len(got.head)} bytes of head, arrivals {[(round(at, 2), n) for at, n in got.arrivals]}")


def test_each_response_on_a_keep_alive_connection_is_paced_on_its_own(env):
    with Client(env.port) as client:
        first = client.get(RATE, "/bytes/" + str(600 * KIB))
        time.sleep(0.5)  # a pace counted from the connection's start would let the second one run
        second = client.get(RATE, "/bytes/" + str(600 * KIB))
    for got in (first, second):
        assert_intact(got, 600 * KIB)
        assert_paced(got, 200)
    assert abs(first.duration - second.duration) < 1.0, (first.duration, second.duration)
    print(f"\nkeep-alive: {first.duration:.3f} s, then {second.duration:.3f} s")


def test_websockets_are_not_slowed(env):
    # A download on the same Ingress is being paced meanwhile.
    paced: list[Download] = []
    downloading = threading.Thread(target=lambda: paced.append(download(env.port, RATE, 600 * KIB)))
    downloading.start()
    try:
        payload = BODY  # 1 MiB: 4 s at the route's 200 KiB/s
        sock = socket.create_connection(("127.0.0.1", env.port), timeout=5)
        with connect(f"ws://{RATE}/ws", sock=sock, open_timeout=5, close_timeout=2, max_size=None) as ws:
            started = time.monotonic()
            ws.send(payload)
            echoed = ws.recv(timeout=10)
            took = time.monotonic() - started
    finally:
        downloading.join(DOWNLOAD_TIMEOUT_S)
    assert echoed == payload
    assert took < 1.5, took
    assert paced, "the download beside the tunnel failed"
    assert_paced(paced[0], 200)
    print(f"\nWebSocket 1 MiB echo: {took:.3f} s while a download took {paced[0].duration:.3f} s")


def test_an_invalid_value_is_reported_and_ignored(env):
    for host, (annotation, value) in INVALID.items():
        name = INGRESSES[host][0]
        got = download(env.port, host, 600 * KIB)
        assert_intact(got, 600 * KIB)
        assert got.duration < UNLIMITED_MAX_S, (host, got.duration)

        def reported() -> bool:
            return any(line.startswith("InvalidAnnotation:") and f'{annotation}="{value}"' in line
                       for line in t.controller_warnings(env.stack, name))

        wait_until(reported, WARNING_TIMEOUT_S, f"the controller's InvalidAnnotation warning about {name}",
                   alive=env.stack.check_alive)
    for host in (PLAIN, RATE, AFTER, SIZE, SLOW):
        assert t.controller_warnings(env.stack, INGRESSES[host][0]) == [], host


# -- real nginx ----------------------------------------------------------------------------------

# As ingress-nginx writes the annotations (the integers with "k" appended) with proxy-buffering
# "on" and its default buffers. With its default proxy-buffering "off" nginx ignores limit_rate
# altogether: ngx_http_upstream_send_response sets r->limit_rate = 0 for an unbuffered response.
NGINX_PROXY = """\
    proxy_pass http://127.0.0.1:{port};
    proxy_http_version 1.1;
    proxy_buffering on;
    proxy_buffer_size 4k;
    proxy_buffers 4 4k;"""
NGINX_SERVER = """\
location /rate/ {{
{proxy}
    limit_rate 200k;
}}
location /after/ {{
{proxy}
    limit_rate_after 400k;
    limit_rate 100k;
}}
"""


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_as_long_as_nginx(env, tmp_path):
    server = NGINX_SERVER.format(proxy=NGINX_PROXY.format(port=env.backend.port))
    nginx, nginx_port = start_nginx(env.stack.launcher, tmp_path, server)
    cases = [(RATE, "/rate", 600 * KIB), (AFTER, "/after", 700 * KIB)]
    try:
        theirs = {host: download(nginx_port, host, size, prefix) for host, prefix, size in cases}
    finally:
        nginx.stop()
    ours = {host: download(env.port, host, size) for host, _, size in cases}
    report = {host: {"nginx": round(theirs[host].duration, 3), "pier": round(ours[host].duration, 3)}
              for host in theirs}
    for host, _, size in cases:
        for who, got in (("nginx", theirs[host]), ("pier", ours[host])):
            marks = " ".join(f"{got.time_to(k * KIB):.2f}" for k in range(100, size // KIB + 1, 100))
            print(f"\n{host} {who}: {got.duration:.3f} s; each 100 KiB of the body at {marks}", end="")
    print()
    for host, _, size in cases:
        assert_intact(theirs[host], size)
        assert_intact(ours[host], size)
        difference = abs(ours[host].duration - theirs[host].duration)
        assert difference <= max(NGINX_SHARE * theirs[host].duration, NGINX_SLACK_S), (host, report)


def test_nothing_crashed(env):
    env.stack.check_alive()
    assert download(env.port, PLAIN, 10).status == 200
