"""RFC 9112 request framing at the edge: every ambiguous or malformed request is answered with
the exact status, the connection is closed, and not one byte reaches the backend.

The backend is a recorder in this process (recorder.py), so "nothing reached it" is a count of
bytes, not a guess. Valid requests of the same shapes go through, so each refusal is about the
defect and not the shape. Upstream responses with bad framing become 502 and the upstream
connection is dropped."""

from __future__ import annotations

import time

import pytest

import manifests as m
from framing import exchange
from harness import PierStack, wait_until
from recorder import Recorder, RecordedRequest, ok_json

MAX_HEADER_BYTES = 4096
HEADER_TIMEOUT_S = 1.0
SMALL_BODY_LIMIT = 16
SETTLE_S = 0.05  # a wrongly forwarded request would have reached the recorder by then


def head(request_line: str, *fields: str, body: bytes = b"") -> bytes:
    return (request_line + "\r\n" + "".join(f + "\r\n" for f in fields) + "\r\n").encode("latin-1") + body


def read_head(sock, received: bytes = b"") -> bytes:
    """Reads until the end of a response head (or EOF); returns all bytes received."""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received


def post(*fields: str, body: bytes = b"") -> bytes:
    return head("POST /echo HTTP/1.1", "Host: app.test", *fields, body=body)


CHUNKED = "Transfer-Encoding: chunked"

# (id, raw request, status)
REFUSED = [
    ("cl-and-te", post("Content-Length: 5", CHUNKED, body=b"0\r\n\r\n"), 400),
    ("te-and-cl", post(CHUNKED, "Content-Length: 5", body=b"0\r\n\r\n"), 400),
    ("cl-differing", post("Content-Length: 5", "Content-Length: 6", body=b"hello!"), 400),
    ("cl-identical-twice", post("Content-Length: 5", "Content-Length: 5", body=b"hello"), 400),
    ("cl-list", post("Content-Length: 5, 5", body=b"hello"), 400),
    ("cl-signed", post("Content-Length: +5", body=b"hello"), 400),
    ("chunked-not-last", post("Transfer-Encoding: chunked, gzip", body=b"0\r\n\r\n"), 400),
    ("chunked-twice", post("Transfer-Encoding: chunked, chunked", body=b"0\r\n\r\n"), 400),
    ("te-two-fields", post("Transfer-Encoding: gzip", CHUNKED, body=b"0\r\n\r\n"), 501),
    ("te-unknown", post("Transfer-Encoding: foo", body=b"0\r\n\r\n"), 501),
    ("te-gzip-chunked", post("Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"), 501),
    ("te-http10", head("POST /echo HTTP/1.0", CHUNKED, body=b"0\r\n\r\n"), 400),
    ("obs-fold", head("GET / HTTP/1.1", "Host: app.test", "X-Long: first", " continued"), 400),
    ("space-before-colon", post("Content-Length : 5", body=b"hello"), 400),
    ("bare-cr", head("GET / HTTP/1.1", "Host: app.test", "X-A: b\rX-B: c"), 400),
    ("bare-lf", b"GET / HTTP/1.1\nHost: app.test\n\n", 400),
    ("nul-in-value", head("GET / HTTP/1.1", "Host: app.test", "X-A: a\0b"), 400),
    ("chunk-size-0x", post(CHUNKED, body=b"0x5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-size-plus", post(CHUNKED, body=b"+5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-size-underscore", post(CHUNKED, body=b"5_0\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-size-overflow", post(CHUNKED, body=b"10000000000000005\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-data-overrun", post(CHUNKED, body=b"5\r\nhelloEXTRA\r\n0\r\n\r\n"), 400),
    ("host-missing", head("GET / HTTP/1.1", "X-A: b"), 400),
    ("host-duplicate", head("GET / HTTP/1.1", "Host: app.test", "Host: other.test"), 400),
    ("host-duplicate-same", head("GET / HTTP/1.1", "Host: app.test", "Host: app.test"), 400),
    ("host-space", head("GET / HTTP/1.1", "Host: app test"), 400),
    ("host-slash", head("GET / HTTP/1.1", "Host: app.test/evil"), 400),
    ("host-userinfo", head("GET / HTTP/1.1", "Host: user@app.test"), 400),
    ("absolute-userinfo", head("GET http://user@app.test/ HTTP/1.1", "Host: app.test"), 400),
    ("absolute-no-host-header", head("GET http://app.test/ HTTP/1.1"), 400),
    ("upgrade-on-post", post("Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                             "Sec-WebSocket-Version: 13", "Content-Length: 0"), 400),
    ("target-raw-byte", head("GET /caf\xe9 HTTP/1.1", "Host: app.test"), 400),
    ("http2-version", head("GET / HTTP/2.0", "Host: app.test"), 505),
    ("connect", head("CONNECT app.test:443 HTTP/1.1", "Host: app.test:443"), 501),
    ("header-too-large", head("GET / HTTP/1.1", "Host: app.test", "X-Big: " + "b" * MAX_HEADER_BYTES), 431),
    ("too-many-fields", head("GET / HTTP/1.1", "Host: app.test", *[f"X-{i}: v" for i in range(200)]), 431),
    ("body-over-route-limit", head("POST /small HTTP/1.1", "Host: app.test",
                                   f"Content-Length: {SMALL_BODY_LIMIT + 1}", body=b"x" * (SMALL_BODY_LIMIT + 1)), 413),
]


def scripted(request: RecordedRequest) -> bytes:
    """The upstream behind /bad/: answers with the framing the target names."""
    name = request.target.rsplit("/", 1)[-1]
    return {
        "cl-and-te": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "cl-differing": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "obs-fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
        "space-before-colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
        "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
        "te-gzip": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok",
        "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
        "bad-status": b"HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok",
    }.get(name, ok_json(request))


BAD_RESPONSES = ["cl-and-te", "cl-differing", "obs-fold", "space-before-colon", "bare-lf", "te-gzip",
                 "bad-chunk", "bad-status"]


class FramingStack:
    def __init__(self, stack: PierStack, recorder: Recorder, scripted_upstream: Recorder):
        self.stack = stack
        self.recorder = recorder
        self.scripted = scripted_upstream


@pytest.fixture(scope="module")
def framing(module_launcher, tmp_path_factory):
    recorder = Recorder()
    scripted_upstream = Recorder(scripted)
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("framing"))
    stack.dataplane_args = ["--max-header-bytes", str(MAX_HEADER_BYTES), "--header-timeout", f"{HEADER_TIMEOUT_S}s"]
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("apps.yaml", m.render(
        *m.service_with_backends("recorder", [recorder.port]),
        *m.service_with_backends("scripted", [scripted_upstream.port]),
        m.ingress("app", [("/", "recorder"), ("/bad/", "scripted")]),
        m.ingress("small", [("/small", "recorder")],
                  annotations={"pier.dev/proxy-body-size": str(SMALL_BODY_LIMIT)})))
    stack.start()
    yield FramingStack(stack, recorder, scripted_upstream)
    recorder.close()
    scripted_upstream.close()


@pytest.mark.parametrize("raw,status", [pytest.param(raw, status, id=name) for name, raw, status in REFUSED])
def test_malformed_request_is_refused_and_never_forwarded(framing, raw, status):
    before = framing.recorder.total_bytes()
    answer = exchange(framing.stack.http_port, raw)
    assert answer.status == status, answer.data[:300]
    assert answer.closed, "the proxy must close the connection after a framing error"
    assert (answer.header("connection") or "").lower() == "close"
    time.sleep(SETTLE_S)
    assert framing.recorder.total_bytes() == before, "bytes of a refused request reached the backend"


# Valid requests of the same shapes: each is forwarded, re-framed as the proxy frames it.
def test_valid_shapes_are_forwarded(framing):
    port = framing.stack.http_port
    chunked = exchange(port, post(CHUNKED, "Connection: close", body=b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))
    assert chunked.status == 200
    seen = framing.recorder.requests()[-1]
    assert seen.body == b"hello world"

    sized = exchange(port, post("Content-Length: 5", "Connection: close", body=b"hello"))
    assert sized.status == 200
    assert framing.recorder.requests()[-1].header("content-length") == "5"

    # HTTP/1.0 has no Upgrade: the request is served as plain HTTP and the header dropped.
    old = exchange(port, head("GET /old HTTP/1.0", "Host: app.test", "Connection: Upgrade", "Upgrade: websocket"))
    assert old.status == 200
    seen = framing.recorder.requests()[-1]
    assert seen.target == "/old" and seen.header("upgrade") is None


def test_absolute_form_authority_wins_over_host(framing):
    answer = exchange(framing.stack.http_port,
                      head("GET http://Authority.Test:8080/p/q?x=1 HTTP/1.1", "Host: ignored.test", "Connection: close"))
    assert answer.status == 200
    seen = framing.recorder.requests()[-1]
    assert seen.target == "/p/q?x=1"  # origin form upstream
    assert seen.header("host") == "Authority.Test:8080"
    assert seen.header("x-forwarded-host") == "Authority.Test:8080"


def test_header_deadline_is_absolute(framing):
    """A client trickling its header one byte at a time still gets 408 at the deadline."""
    import socket
    request = head("GET / HTTP/1.1", "Host: app.test", "X-Slow: " + "s" * 200)
    before = framing.recorder.total_bytes()
    with socket.create_connection(("127.0.0.1", framing.stack.http_port), timeout=5) as sock:
        started = time.monotonic()
        answer = b""
        for byte in request[:-2]:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.02)
            sock.setblocking(False)
            try:
                answer += sock.recv(4096)
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if answer:
                break
        sock.settimeout(3)
        answer = read_head(sock, answer)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert HEADER_TIMEOUT_S * 0.8 < elapsed < HEADER_TIMEOUT_S + 1.5, elapsed
    assert framing.recorder.total_bytes() == before


def test_header_deadline_counts_from_each_request_on_a_kept_alive_connection(framing):
    """The header timer is re-armed lazily: the second request on a connection gets its own
    full deadline, neither the first request's nor none at all."""
    import socket
    with socket.create_connection(("127.0.0.1", framing.stack.http_port), timeout=5) as sock:
        sock.sendall(head("GET / HTTP/1.1", "Host: app.test"))
        first = read_head(sock)
        assert first.startswith(b"HTTP/1.1 200"), first[:200]
        # Past half the first request's deadline, start a second header and never finish it.
        time.sleep(HEADER_TIMEOUT_S * 0.6)
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n")
        sock.settimeout(HEADER_TIMEOUT_S + 3)
        answer = read_head(sock)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert HEADER_TIMEOUT_S * 0.8 < elapsed < HEADER_TIMEOUT_S + 1.5, elapsed


@pytest.mark.parametrize("name", BAD_RESPONSES)
def test_upstream_bad_framing_is_502_and_the_connection_dropped(framing, name):
    upstream = framing.scripted
    answer = exchange(framing.stack.http_port, head(f"GET /bad/{name} HTTP/1.1", "Host: app.test", "Connection: close"))
    assert answer.status == 502, answer.data[:300]
    # The proxy closed its connection to the upstream instead of pooling it.
    connection = [c for c in upstream.connections if any(r.target == f"/bad/{name}" for r in c.requests)][-1]
    wait_until(lambda: connection.closed_by_peer, 3, "the proxy to drop the upstream connection")
    # And the next request to the same upstream is served on a fresh, healthy connection.
    follow_up = exchange(framing.stack.http_port, head("GET /bad/fine HTTP/1.1", "Host: app.test", "Connection: close"))
    assert follow_up.status == 200
