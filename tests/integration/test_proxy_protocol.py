"""--proxy-protocol: behind a TCP load balancer that sends the PROXY protocol header, the
client's address comes from that header (X-Real-IP, X-Forwarded-For, limits), for plain HTTP and
for TLS after it, with real HAProxy (send-proxy, send-proxy-v2) in front and with hand-made
headers; a connection without a valid header is closed and counted."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import time

import pytest

import manifests as m
from harness import free_port, wait_until
from rawhttp import request
from recorder import Recorder

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
GET = b"GET /pp HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"


def v2_tcp4(source: str, port: int = 40000) -> bytes:
    addresses = socket.inet_aton(source) + socket.inet_aton("127.0.0.1") + port.to_bytes(2, "big") + b"\x01\xbb"
    return SIGNATURE + bytes([0x21, 0x11]) + len(addresses).to_bytes(2, "big") + addresses


def exchange(port: int, data: bytes, source: str = "127.0.0.1", timeout: float = 5.0) -> bytes:
    """Sends `data` from `source` (a loopback address) and reads until the peer closes (a reset,
    which closing with unread bytes sends, counts as closing)."""
    with socket.socket() as sock:
        sock.settimeout(timeout)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received


def rejected(stack) -> float:
    text = request(stack.admin_port, "GET", "/metrics").body.decode()
    match = re.search(r'^pier_connections_rejected_total\{reason="proxy_protocol"\} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.fixture
def behind_balancer(stack):
    recorder = Recorder()
    stack.https_port = free_port()
    stack.dataplane_args = ["--proxy-protocol", "--header-timeout", "1s"]
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.catch_all("recorder", [recorder.port]))
    stack.start()
    yield stack, recorder
    recorder.close()


def seen(recorder: Recorder) -> dict:
    return {k.lower(): v for k, v in recorder.requests()[-1].headers}


def test_hand_made_headers_name_the_client(behind_balancer):
    stack, recorder = behind_balancer
    answer = exchange(stack.http_port, b"PROXY TCP4 203.0.113.9 127.0.0.1 40000 80\r\n" + GET)
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen(recorder)["x-real-ip"] == "203.0.113.9"
    assert seen(recorder)["x-forwarded-for"] == "203.0.113.9"

    answer = exchange(stack.http_port, v2_tcp4("198.51.100.23") + GET)
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen(recorder)["x-real-ip"] == "198.51.100.23"

    # A header that names no client (a balancer's health check) keeps the peer.
    answer = exchange(stack.http_port, SIGNATURE + bytes([0x20, 0x00, 0, 0]) + GET)
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen(recorder)["x-real-ip"] == "127.0.0.1"


def tls_get_after(port: int, header: bytes) -> bytes:
    """GET over TLS with `header` and the ClientHello in one write (so in one segment): the
    dataplane must take the header's bytes and leave the hello to the TLS handshake."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="app.test")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        pending = header
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                raw.sendall(pending + outgoing.read())
                pending = b""
                data = raw.recv(65536)
                assert data, "closed during the TLS handshake"
                incoming.write(data)
        tls.write(GET)
        raw.sendall(outgoing.read())
        answer = b""
        while True:
            try:
                chunk = tls.read(65536)
                if not chunk:  # close_notify
                    return answer
                answer += chunk
            except ssl.SSLWantReadError:
                data = raw.recv(65536)
                if not data:
                    return answer
                incoming.write(data)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return answer


def test_tls_after_the_header(behind_balancer):
    stack, recorder = behind_balancer
    answer = tls_get_after(stack.https_port, v2_tcp4("192.0.2.77"))
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen(recorder)["x-real-ip"] == "192.0.2.77"
    assert seen(recorder)["x-forwarded-proto"] == "https"


def test_a_connection_without_a_valid_header_is_closed_and_counted(behind_balancer):
    stack, recorder = behind_balancer
    before = rejected(stack)
    assert exchange(stack.http_port, GET) == b""  # a plain request is not a header
    assert exchange(stack.http_port, b"PROXY TCP4 203.0.113.9 nonsense 1 2\r\n" + GET) == b""
    started = time.monotonic()
    assert exchange(stack.http_port, b"PROXY TCP4 203.0.113.9") == b""  # never finished: --header-timeout
    assert 0.8 < time.monotonic() - started < 4
    assert recorder.requests() == []
    wait_until(lambda: rejected(stack) == before + 3, 5, "three proxy_protocol rejections counted")


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (./dev installs it)")
def test_haproxy_send_proxy_in_front(behind_balancer, tmp_path):
    """Real HAProxy as the TCP balancer: version 1 and version 2 headers, plain and TLS."""
    stack, recorder = behind_balancer
    v1, v2, tls_port = free_port(), free_port(), free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(f"""global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen v1
    bind 127.0.0.1:{v1}
    server pier 127.0.0.1:{stack.http_port} send-proxy
listen v2
    bind 127.0.0.1:{v2}
    server pier 127.0.0.1:{stack.http_port} send-proxy-v2
listen tls
    bind 127.0.0.1:{tls_port}
    server pier 127.0.0.1:{stack.https_port} send-proxy-v2
""")
    haproxy = stack.launcher.start("haproxy", [shutil.which("haproxy"), "-db", "-f", str(config)])

    def listening() -> bool:
        haproxy.check_alive()
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", tls_port)) == 0

    wait_until(listening, 10, "haproxy to listen")
    # The client connects from 127.0.0.2, HAProxy from 127.0.0.1: the backend must hear .2.
    for port in (v1, v2):
        answer = exchange(port, GET, source="127.0.0.2")
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
        assert seen(recorder)["x-real-ip"] == "127.0.0.2"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.socket() as raw:
        raw.settimeout(5)
        raw.bind(("127.0.0.2", 0))
        raw.connect(("127.0.0.1", tls_port))
        with context.wrap_socket(raw, server_hostname="app.test") as tls:
            tls.sendall(GET)
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen(recorder)["x-real-ip"] == "127.0.0.2"
