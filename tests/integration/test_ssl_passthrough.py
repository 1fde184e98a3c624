"""TLS passthrough (ingress-nginx's ssl-passthrough annotation) on the dataplane's HTTPS listener.

With the controller flag --enable-ssl-passthrough, a TLS connection whose ClientHello names (SNI)
a rule host of an Ingress with `ssl-passthrough: "true"` is not terminated by Pier: the dataplane
reads the ClientHello without answering it, connects to an endpoint of the backend of the
Ingress' path "/" and copies the bytes both ways, ClientHello first, unchanged. Tested here:

- The client sees the backend's certificate (not Pier's), the backend sees the client's SNI
  (Python ssl and curl); an exact host, a wildcard host, both annotation prefixes.
- Other hosts on the same listener are terminated by Pier as before, also when their ClientHello
  comes slowly or split over two TLS records; a request on a connection Pier terminated (no SNI,
  or SNI of another host) for a passthrough host is 421; plain HTTP to it is served as usual.
- A raw TCP backend gets exactly the client's bytes: the ClientHello and what follows it in the
  same segment, a hello sent byte by byte, a hello split over two records, a hello over 16 KiB
  (which is not passed through); half-close both ways; 8 MiB each way.
- What applies from the Ingress: source ranges (closed after the hello, nothing sent, "denied"),
  no endpoints ("unavailable"), proxy-next-upstream onto the next endpoint after a refused or a
  timed-out connect (proxy-connect-timeout), all endpoints dead ("connect_failed"), and
  websocket-idle-timeout as the idle timeout.
- pier_tls_passthrough_connections_total / _active, pier_bytes_total, and --header-timeout on a
  ClientHello that never completes (pier_tls_handshakes_total{result="timeout"}); garbage on the
  TLS port harms nothing.
- An open passthrough connection survives snapshot changes (another Ingress added and edited,
  its own Ingress edited).
- Controller warnings: PassthroughDisabled (without the flag: Pier terminates TLS),
  ConflictingPassthrough (an older Ingress for the host wins: Pier terminates TLS),
  PassthroughHost, a rule without host.
- The same raw client through real nginx (stream, ssl_preread) delivers the same bytes, when
  this nginx has its stream module.

Everything runs on 127.0.0.1: TLS and raw TCP backends in the test process, chat backends, the
controller in manifests mode and the dataplane. Certificates are made with the openssl CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

import pytest

import manifests as m
import tlsutil as t
from harness import Blackhole, PierStack, free_port, wait_until
from nginxutil import start_nginx_stream, stream_preread_support
from promtext import metric
from rawhttp import format_request, request

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"
PASSTHROUGH = {NGINX_PREFIX + "ssl-passthrough": "true"}
PIER_PASSTHROUGH = {PIER_PREFIX + "ssl-passthrough": "true"}

PASS = "pass.test"           # passthrough to the TLS backend; /healthz and /headers (Ingress pass-extra) to chat
RAW = "raw.test"             # passthrough (pier.dev/ prefix) to the raw recording backend
ECHO = "echo.test"           # passthrough to the raw echo backend
WILD = "*.wild.test"         # passthrough to the TLS backend
APP = "app.test"             # TLS terminated by Pier (spec.tls), to chat
GUARDED = "guarded.test"     # passthrough, allowlist-source-range 10.0.0.0/8,127.0.0.2/32
BANNED = "banned.test"       # passthrough, denylist-source-range 127.0.0.0/8
EMPTY = "empty.test"         # passthrough to a Service whose EndpointSlice has no endpoints
MISSING = "missing.test"     # passthrough to a Service that does not exist
NEXT = "next.test"           # passthrough to [refused port, echo]
SLOW = "slowconnect.test"    # passthrough to [blackhole, echo], proxy-connect-timeout 200ms
DEAD = "dead.test"           # passthrough to [refused port, refused port]
IDLE = "idle.test"           # passthrough to echo, websocket-idle-timeout 1s
BALANCED = "balanced.test"   # passthrough to [echo, echo-2], load-balance round_robin
FIN_FIRST = "finfirst.test"  # passthrough to a raw backend that sends, then FIN, then reads
CONFLICT = "conflict.test"   # an older Ingress without passthrough, a newer one with it

DEFAULT_SUBJECT = "CN = Pier Default Certificate"
BACKEND_ANSWER = b"via-backend"
AFTER_EOF = b"after-eof"
BACKEND_FIRST = b"backend-first"
TAIL = b"tail-1234"
IDLE_TIMEOUT_S = 1.0
WARNING_TIMEOUT_S = 10
IO_TIMEOUT_S = 5.0


# -- backends in the test process -------------------------------------------------------------

class TlsBackend(t.TlsTestServer):
    """A TLS server with its own certificate: records the SNI of every handshake and answers
    one HTTP request per connection with `via-backend` (and the SNI in X-Backend-Sni)."""

    def __init__(self, pair: t.KeyPair):
        context = t.server_context(pair)
        context.sni_callback = self._sni
        self.server_names: list[Optional[str]] = []
        super().__init__(context, timeout=IO_TIMEOUT_S)

    def _sni(self, connection, server_name, _context):
        connection.seen_server_name = server_name  # the SSLSocket being handshaken
        with self._lock:
            self.server_names.append(server_name)

    def handle(self, tls: ssl.SSLSocket, number: int) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = tls.recv(4096)
            if not chunk:
                return
            head += chunk
        sni = getattr(tls, "seen_server_name", None)
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(BACKEND_ANSWER)).encode() +
                    b"\r\nX-Backend-Sni: " + (sni or "-").encode() + b"\r\nConnection: close\r\n\r\n" +
                    BACKEND_ANSWER)

    def names(self) -> list[Optional[str]]:
        with self._lock:
            return list(self.server_names)


@dataclass
class RawConnection:
    data: bytearray = field(default_factory=bytearray)
    eof: threading.Event = field(default_factory=threading.Event)


class RawBackend(t.TlsTestServer):
    """A plain TCP backend that records every byte of each connection. mode "record": after it
    reads EOF it sends b"after-eof" and closes; mode "echo": sends back what it reads and, after
    EOF, shuts its side down too; mode "fin-first": sends b"backend-first" and shuts its side
    down as soon as it accepts, then records until EOF."""

    def __init__(self, mode: str):
        assert mode in ("record", "echo", "fin-first")
        self.mode = mode
        self.connections: list[RawConnection] = []
        super().__init__(None)  # plain TCP, blocking

    def handle(self, sock: socket.socket, number: int) -> None:
        record = RawConnection()
        with self._lock:
            self.connections.append(record)
        if self.mode == "fin-first":
            sock.sendall(BACKEND_FIRST)
            sock.shutdown(socket.SHUT_WR)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            record.data += chunk
            if self.mode == "echo":
                sock.sendall(chunk)
        record.eof.set()
        if self.mode == "record":
            sock.sendall(AFTER_EOF)
        elif self.mode == "echo":
            sock.shutdown(socket.SHUT_WR)

    def count(self) -> int:
        with self._lock:
            return len(self.connections)

    def connection(self, index: int, timeout: float = IO_TIMEOUT_S) -> RawConnection:
        """The index-th connection accepted (waiting for it)."""
        wait_until(lambda: self.count() > index, timeout, f"connection #{index} to the {self.mode} backend")
        with self._lock:
            return self.connections[index]


# -- raw clients -------------------------------------------------------------------------------

def client_hello(sni: Optional[str]) -> bytes:
    """A real ClientHello (Python's OpenSSL, one TLS record) with SNI `sni` (None: none)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname=sni)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:  # waiting for the ServerHello: the ClientHello is out
        pass
    hello = outgoing.read()
    assert hello[0] == 22 and 5 + int.from_bytes(hello[3:5], "big") == len(hello), "not one handshake record"
    assert hello[5] == 1, "not a ClientHello"
    return hello


def record(version: bytes, fragment: bytes) -> bytes:
    return bytes([22]) + version + len(fragment).to_bytes(2, "big") + fragment


def split_hello(hello: bytes, at: int) -> tuple[bytes, bytes]:
    """The one-record `hello` as two handshake records, its message split after `at` bytes."""
    message = hello[5:]
    return record(hello[1:3], message[:at]), record(hello[1:3], message[at:])


def grown_hello(hello: bytes, padding: int) -> bytes:
    """`hello` with one more extension, of a reserved GREASE type (RFC 8701: servers ignore it),
    carrying `padding` zero bytes; in as many records of at most 2^14 bytes as it takes."""
    message = bytearray(hello[5:])
    body = message[4:]
    offset = 2 + 32
    offset += 1 + body[offset]                                    # legacy_session_id
    offset += 2 + int.from_bytes(body[offset:offset + 2], "big")  # cipher_suites
    offset += 1 + body[offset]                                    # compression methods
    extensions_length = int.from_bytes(body[offset:offset + 2], "big")
    extension = (0x1A1A).to_bytes(2, "big") + padding.to_bytes(2, "big") + bytes(padding)
    body[offset:offset + 2] = (extensions_length + len(extension)).to_bytes(2, "big")
    body += extension
    message = bytes([1]) + len(body).to_bytes(3, "big") + bytes(body)
    chunks = [message[i:i + 16384] for i in range(0, len(message), 16384)]
    return b"".join(record(hello[1:3], chunk) for chunk in chunks)


def connect(port: int, source: str = "127.0.0.1", timeout: float = IO_TIMEOUT_S) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 1 << 20))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {size} bytes")
        data += chunk
    return bytes(data)


def recv_until_eof(sock: socket.socket) -> bytes:
    """Everything until the peer closes (a reset counts as closing)."""
    data = bytearray()
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return bytes(data)


def echo_roundtrip(sock: socket.socket, data: bytes) -> None:
    sock.sendall(data)
    assert recv_exactly(sock, len(data)) == data


def open_echo(port: int, host: str = ECHO, source: str = "127.0.0.1") -> socket.socket:
    """A passthrough connection to an echo backend, its ClientHello already echoed back."""
    sock = connect(port, source)
    hello = client_hello(host)
    sock.sendall(hello)
    assert recv_exactly(sock, len(hello)) == hello
    return sock


def closed_right_away(port: int, data: bytes, source: str = "127.0.0.1") -> bytes:
    """Sends `data` and returns what came back before the dataplane closed."""
    with connect(port, source) as sock:
        sock.sendall(data)
        return recv_until_eof(sock)


@dataclass
class TlsOverRaw:
    """TLS done by hand over a plain socket (ssl.SSLObject and two memory BIOs)."""
    sock: socket.socket
    tls: ssl.SSLObject
    incoming: ssl.MemoryBIO
    outgoing: ssl.MemoryBIO


def tls_handshake_over(sock: socket.socket, sni: str, ca: t.KeyPair, first_flight) -> TlsOverRaw:
    """A TLS handshake over `sock` whose first flight (the ClientHello) is sent by
    first_flight(sock, hello) and the rest as usual."""
    context = t.client_context(ca)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=sni)
    first = True
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = outgoing.read()
            if first:
                first_flight(sock, pending)
                first = False
            elif pending:
                sock.sendall(pending)
            data = sock.recv(65536)
            assert data, "closed during the TLS handshake"
            incoming.write(data)
    sock.sendall(outgoing.read())
    return TlsOverRaw(sock, tls, incoming, outgoing)


def tls_request(connection: TlsOverRaw, raw_request: bytes) -> bytes:
    """Sends a request and reads until the server closes."""
    sock, tls, incoming, outgoing = connection.sock, connection.tls, connection.incoming, connection.outgoing
    tls.write(raw_request)
    sock.sendall(outgoing.read())
    answer = b""
    while True:
        try:
            chunk = tls.read(65536)
            if not chunk:
                return answer
            answer += chunk
        except ssl.SSLWantReadError:
            data = sock.recv(65536)
            if not data:
                return answer
            incoming.write(data)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return answer


# -- metrics and warnings ----------------------------------------------------------------------

RESULTS = ("proxied", "denied", "unavailable", "connect_failed")


def passthrough_counts(stack: PierStack) -> dict[str, float]:
    return {result: metric(stack.admin_port, "pier_tls_passthrough_connections_total", result=result)
            for result in RESULTS}


def active(stack: PierStack) -> float:
    return metric(stack.admin_port, "pier_tls_passthrough_connections_active")


def counted(stack: PierStack, before: dict[str, float], **expected: int) -> dict[str, float]:
    """Waits until every result counted exactly `expected` more than `before` (the rest none)."""
    want = {result: before[result] + expected.get(result, 0) for result in RESULTS}
    try:
        return wait_until(lambda: (lambda now: now if now == want else None)(passthrough_counts(stack)), 3,
                          f"passthrough counters {expected}")
    except TimeoutError:
        raise AssertionError(f"passthrough counters: before {before}, now {passthrough_counts(stack)}, "
                             f"expected +{expected}") from None


def https_connections(stack: PierStack) -> float:
    return metric(stack.admin_port, "pier_connections_active", listener="https")


def all_closed(stack: PierStack, timeout: float = 2.0) -> None:
    """Every connection of the HTTPS listener is gone (its session and count released) within
    `timeout`: a connection that is closed must not linger until some later timer."""
    try:
        wait_until(lambda: https_connections(stack) == 0 and active(stack) == 0, timeout,
                   "every HTTPS connection released")
    except TimeoutError:
        raise AssertionError(f"{https_connections(stack):g} HTTPS connections still counted open "
                             f"({active(stack):g} passthrough) {timeout:g}s after their clients left") from None


def retries(stack: PierStack, ingress: str) -> float:
    try:
        return metric(stack.admin_port, "pier_upstream_retries_total", ingress=ingress, reason="next_endpoint")
    except KeyError:
        return 0.0


def config_version(stack: PierStack) -> float:
    return metric(stack.admin_port, "pier_config_version")


def controller_warnings(stack: PierStack, ingress: str) -> list[str]:
    return re.findall(rf"(\w+: ingress default/{re.escape(ingress)}: .*)", stack.controller.log_text())


def wait_warning(stack: PierStack, ingress: str, kind: str, phrase: str = "") -> str:
    def find() -> Optional[str]:
        return next((w for w in controller_warnings(stack, ingress) if w.startswith(kind + ":") and phrase in w),
                    None)
    try:
        return wait_until(find, WARNING_TIMEOUT_S, f"the controller's {kind} warning about ingress default/{ingress}")
    except TimeoutError:
        raise AssertionError(f"no {kind} warning about {ingress}; its warnings: "
                             f"{controller_warnings(stack, ingress)}") from None


def der(pair: t.KeyPair) -> bytes:
    return ssl.PEM_cert_to_DER_cert(t.leaf_pem(pair))


# -- the shared stack --------------------------------------------------------------------------

@dataclass
class Env:
    stack: PierStack
    tls_backend: TlsBackend
    recorder: RawBackend      # raw.test
    echo: RawBackend          # echo.test, idle.test, next.test, slowconnect.test, balanced.test
    echo2: RawBackend         # balanced.test
    fin_first: RawBackend     # finfirst.test
    guarded: RawBackend       # guarded.test, banned.test
    backend_ca: t.KeyPair
    backend_leaf: t.KeyPair
    server_ca: t.KeyPair
    server: t.KeyPair

    @property
    def https_port(self) -> int:
        return self.stack.https_port

    def https_get(self, host: str, path: str = "/", ca: object = "server", sni: Optional[str] = ""):
        """GET over TLS trusting Pier's server CA (ca="server"), another CA, or anything (None)."""
        return t.https_get(self.https_port, host, path, self.server_ca if ca == "server" else ca, sni=sni,
                           headers={"Connection": "close"})

    def relay(self, data: bytes, backend: Optional[RawBackend] = None, pause: float = 0.0,
              pieces: Optional[list[bytes]] = None) -> tuple[bytes, RawConnection]:
        """Sends `data` (or `pieces`, `pause` seconds apart) to the HTTPS port, then FIN; returns
        what came back until EOF and the connection the recording backend saw."""
        backend = backend or self.recorder
        before = backend.count()
        with connect(self.https_port) as sock:
            for index, piece in enumerate(pieces if pieces is not None else [data]):
                if index and pause:
                    time.sleep(pause)
                sock.sendall(piece)
            sock.shutdown(socket.SHUT_WR)
            answer = recv_until_eof(sock)
        return answer, backend.connection(before)


def ingress_tls(ingress: dict, host: str, secret: str) -> dict:
    ingress["spec"]["tls"] = [{"hosts": [host], "secretName": secret}]
    return ingress


def echo_ingress(annotations: Optional[dict] = None) -> dict:
    return m.ingress("echo", [("/", "echo")], {**PASSTHROUGH, **(annotations or {})}, host=ECHO)


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory) -> Env:
    workdir = tmp_path_factory.mktemp("passthrough")
    certs = workdir / "certs"
    stack = PierStack(module_launcher, workdir)
    stack.https_port = free_port()
    stack.controller_args = ["--enable-ssl-passthrough"]

    backend_ca = t.make_ca(certs, "Passthrough Backend CA")
    backend_leaf = t.issue(backend_ca, certs, PASS, dns_names=[PASS, WILD])
    server_ca = t.make_ca(certs, "Pier Server CA")
    server = t.issue(server_ca, certs, APP, dns_names=[APP, CONFLICT])

    chat = stack.start_backend("chat-passthrough")
    tls_backend = TlsBackend(backend_leaf)
    recorder = RawBackend("record")
    echo = RawBackend("echo")
    echo2 = RawBackend("echo")
    fin_first = RawBackend("fin-first")
    guarded = RawBackend("record")
    blackhole = Blackhole()
    refused = [free_port(), free_port()]

    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("services.yaml", m.render(
        *m.service_with_backends("chat", [chat.port]),
        *m.service_with_backends("pass-tls", [tls_backend.port]),
        *m.service_with_backends("record", [recorder.port]),
        *m.service_with_backends("echo", [echo.port]),
        *m.service_with_backends("guarded", [guarded.port]),
        m.service("empty"), m.endpoint_slice("empty", "empty", None),
        *m.service_with_backends("next", [refused[0], echo.port]),
        *m.service_with_backends("slowconnect", [blackhole.port, echo.port]),
        *m.service_with_backends("dead", refused),
        *m.service_with_backends("balanced", [echo.port, echo2.port]),
        *m.service_with_backends("finfirst", [fin_first.port]),
        t.tls_secret("server-cert", server.cert_pem, server.key_pem)))
    stack.write_manifest("echo.yaml", m.render(echo_ingress()))
    stack.write_manifest("ingresses.yaml", m.render(
        ingress_tls(m.ingress("app", [("/", "chat")], host=APP), APP, "server-cert"),
        m.ingress("pass", [("/", "pass-tls"), ("/healthz", "chat")], PASSTHROUGH, host=PASS),
        m.ingress("pass-extra", [("/headers", "chat")], host=PASS, creation_timestamp="2024-02-01T00:00:00Z"),
        m.ingress("raw", [("/", "record")], PIER_PASSTHROUGH, host=RAW),
        m.ingress("wild", [("/", "pass-tls")], PASSTHROUGH, host=WILD),
        m.ingress("guarded", [("/", "guarded")], {
            **PASSTHROUGH, NGINX_PREFIX + "allowlist-source-range": "10.0.0.0/8,127.0.0.2/32"}, host=GUARDED),
        m.ingress("banned", [("/", "guarded")], {
            **PASSTHROUGH, NGINX_PREFIX + "denylist-source-range": "127.0.0.0/8"}, host=BANNED),
        m.ingress("empty", [("/", "empty")], PASSTHROUGH, host=EMPTY),
        m.ingress("missing", [("/", "nowhere")], PASSTHROUGH, host=MISSING),
        m.ingress("next", [("/", "next")], {**PASSTHROUGH, NGINX_PREFIX + "load-balance": "round_robin"}, host=NEXT),
        m.ingress("slowconnect", [("/", "slowconnect")], {
            **PASSTHROUGH, NGINX_PREFIX + "proxy-connect-timeout": "200ms"}, host=SLOW),
        m.ingress("dead", [("/", "dead")], PASSTHROUGH, host=DEAD),
        m.ingress("finfirst", [("/", "finfirst")], PASSTHROUGH, host=FIN_FIRST),
        m.ingress("balanced", [("/", "balanced")], {
            **PASSTHROUGH, NGINX_PREFIX + "load-balance": "round_robin"}, host=BALANCED),
        m.ingress("idle", [("/", "echo")], {
            **PASSTHROUGH, PIER_PREFIX + "websocket-idle-timeout": f"{IDLE_TIMEOUT_S:g}s"}, host=IDLE),
        ingress_tls(m.ingress("conflict-old", [("/", "chat")], host=CONFLICT,
                              creation_timestamp="2023-01-01T00:00:00Z"), CONFLICT, "server-cert"),
        m.ingress("conflict-new", [("/", "pass-tls", "Exact")], PASSTHROUGH, host=CONFLICT),
        m.ingress("nohost", [("/nohost/", "chat")], PASSTHROUGH),
    ))
    stack.start()
    env = Env(stack, tls_backend, recorder, echo, echo2, fin_first, guarded, backend_ca, backend_leaf, server_ca,
              server)
    # The first snapshot holds everything: once app.test answers over TLS and pass.test passes
    # through, both halves are loaded.
    wait_until(lambda: env.https_get(APP).status == 200, 10, "app.test over HTTPS", alive=stack.check_alive)
    wait_until(lambda: t.presented_certificate(env.https_port, PASS).subject == f"CN = {PASS}", 10,
               "pass.test passed through to its backend", alive=stack.check_alive)
    yield env
    for server_ in (tls_backend, recorder, echo, echo2, fin_first, guarded):
        server_.close()
    blackhole.close()


# -- the backend's TLS -------------------------------------------------------------------------

def test_the_client_sees_the_backends_certificate_and_the_backend_the_clients_sni(env):
    before = passthrough_counts(env.stack)
    names = len(env.tls_backend.names())
    with t.TlsConnection(env.https_port, PASS, env.backend_ca) as connection:
        presented = connection.sock.getpeercert(binary_form=True)
        connection.send(format_request("GET", "/", headers={"Connection": "close"}, host=PASS))
        response = connection.read_response()
    assert response.status == 200 and response.body == BACKEND_ANSWER, (response.status, response.text)
    assert response.header("X-Backend-Sni") == PASS
    assert env.tls_backend.names()[names:] == [PASS]
    assert presented == der(env.backend_leaf)
    # Pier's own certificate (the default one: pass.test has no spec.tls) is something else.
    with t.TlsConnection(env.https_port, None, None) as connection:
        assert connection.sock.getpeercert(binary_form=True) != presented
    counted(env.stack, before, proxied=1)

    # curl, resolving pass.test to the dataplane and trusting only the backend's CA.
    port = env.https_port
    completed = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "--cacert", str(env.backend_ca.cert),
         "--resolve", f"{PASS}:{port}:127.0.0.1", "-D", "-", f"https://{PASS}:{port}/curl"],
        capture_output=True, text=True, timeout=10)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.endswith(BACKEND_ANSWER.decode()), completed.stdout
    assert "X-Backend-Sni: pass.test" in completed.stdout, completed.stdout
    # SNI is case-insensitive; the backend still gets the client's own bytes (as it wrote them).
    with t.TlsConnection(env.https_port, "PASS.test", env.backend_ca) as connection:
        connection.send(format_request("GET", "/", headers={"Connection": "close"}, host=PASS))
        assert connection.read_response().body == BACKEND_ANSWER
    assert env.tls_backend.names()[-1].lower() == PASS


def test_a_wildcard_host_passes_through(env):
    with t.TlsConnection(env.https_port, "a.wild.test", env.backend_ca) as connection:
        connection.send(format_request("GET", "/", headers={"Connection": "close"}, host="a.wild.test"))
        response = connection.read_response()
    assert response.body == BACKEND_ANSWER
    assert response.header("X-Backend-Sni") == "a.wild.test"
    # The wildcard names one label more, not the bare domain: that one Pier terminates.
    assert t.presented_certificate(env.https_port, "wild.test").subject == DEFAULT_SUBJECT
    assert t.presented_certificate(env.https_port, "b.wild.test").subject == f"CN = {PASS}"


def test_other_hosts_on_the_listener_are_still_terminated_by_pier(env):
    response = env.https_get(APP, "/headers")
    assert response.status == 200, response.text
    assert response.header("X-Backend") == "chat-passthrough"
    assert response.json()["headers"].get("x-forwarded-proto") == "https"
    assert t.presented_certificate(env.https_port, APP).subject == f"CN = {APP}"
    # A ClientHello for app.test that comes byte by byte, or split over two records (the split
    # inside the handshake header, and in the middle), still gets Pier's own handshake.

    def slowly(sock, hello):
        for byte in hello:
            sock.sendall(bytes([byte]))
            time.sleep(0.002)

    def split_at(at):
        def send(sock, hello):
            first, second = split_hello(hello, at)
            sock.sendall(first)
            time.sleep(0.05)
            sock.sendall(second)
        return send

    for first_flight in (slowly, split_at(2), split_at(120)):
        with connect(env.https_port) as sock:
            connection = tls_handshake_over(sock, APP, env.server_ca, first_flight)
            answer = tls_request(connection, format_request("GET", "/headers", {"Connection": "close"}, host=APP))
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b"chat-passthrough" in answer


def test_421_for_a_passthrough_host_on_a_connection_pier_terminated(env):
    before = passthrough_counts(env.stack)
    # No SNI, and SNI of a host Pier serves with the same (default) certificate.
    for sni in (None, "unknown.test"):
        response = env.https_get(PASS, "/healthz", ca=None, sni=sni)
        assert response.status == 421, (sni, response.status, response.text)
        assert "passes TLS through" in response.text, response.text
    # SNI of a host with its own certificate: 421 too (that certificate does not cover pass.test).
    response = env.https_get(PASS, "/healthz", ca=env.server_ca, sni=APP)
    assert response.status == 421, (response.status, response.text)
    # None of these were passed through.
    counted(env.stack, before)


def test_plain_http_to_a_passthrough_host_is_served_by_its_routes(env):
    for path in ("/healthz", "/headers"):  # the passthrough Ingress' path, another Ingress' path
        response = request(env.stack.http_port, "GET", path, headers={"Host": PASS})
        assert response.status == 200, (path, response.status, response.text)
        assert response.header("X-Backend") == "chat-passthrough"


# -- the bytes ---------------------------------------------------------------------------------

def test_bytes_are_relayed_exactly_and_half_close_works_both_ways(env):
    hello = client_hello(RAW)
    answer, seen = env.relay(hello + TAIL)
    assert seen.eof.is_set()
    assert bytes(seen.data) == hello + TAIL
    assert answer == AFTER_EOF  # sent by the backend after it read the client's FIN

    # The other way round: the backend sends and shuts its side down first; the client gets
    # that and EOF, and can still send, which the backend receives, up to the client's FIN.
    before = env.fin_first.count()
    with connect(env.https_port) as sock:
        hello = client_hello(FIN_FIRST)
        sock.sendall(hello)
        assert recv_until_eof(sock) == BACKEND_FIRST
        seen = env.fin_first.connection(before)
        wait_until(lambda: bytes(seen.data) == hello, IO_TIMEOUT_S, "the hello at the backend")
        time.sleep(0.1)
        sock.sendall(b"after the backend's FIN")
        sock.shutdown(socket.SHUT_WR)
        assert seen.eof.wait(IO_TIMEOUT_S), "the client's FIN never reached the backend"
        assert recv_until_eof(sock) == b""
    assert bytes(seen.data) == hello + b"after the backend's FIN"
    all_closed(env.stack)


def passthrough_log_lines(stack, host: str) -> list[dict]:
    lines = []
    for line in stack.dataplane.log_text().splitlines():
        if '"type":"tls-passthrough"' in line:
            record = json.loads(line)
            if record["host"] == host:
                lines.append(record)
    return lines


def test_each_connection_gets_an_access_log_line_when_it_ends(env):
    before = len(passthrough_log_lines(env.stack, RAW))
    hello = client_hello(RAW)
    answer, _ = env.relay(hello + TAIL)
    wait_until(lambda: len(passthrough_log_lines(env.stack, RAW)) == before + 1, IO_TIMEOUT_S,
               "the passthrough connection's access log line")
    line = passthrough_log_lines(env.stack, RAW)[-1]
    assert line["close_reason"] == "closed"
    assert line["bytes_in"] == len(hello + TAIL) and line["bytes_out"] == len(answer) == len(AFTER_EOF)
    assert line["upstream"] == f"127.0.0.1:{env.recorder.port}"
    assert line["client"].startswith("127.0.0.1") and line["route"] and line["status"] == 0
    assert line["method"] == "" and line["path"] == "" and "messages_in" not in line

    # One that never reached a backend says why, and names no upstream it did not reach.
    before = len(passthrough_log_lines(env.stack, GUARDED))
    closed_right_away(env.https_port, client_hello(GUARDED))
    wait_until(lambda: len(passthrough_log_lines(env.stack, GUARDED)) == before + 1, IO_TIMEOUT_S,
               "the denied connection's access log line")
    line = passthrough_log_lines(env.stack, GUARDED)[-1]
    assert line["close_reason"] == "denied" and line["upstream"] == "" and line["bytes_in"] == 0
    before = len(passthrough_log_lines(env.stack, DEAD))
    closed_right_away(env.https_port, client_hello(DEAD))
    wait_until(lambda: len(passthrough_log_lines(env.stack, DEAD)) == before + 1, IO_TIMEOUT_S,
               "the failed connection's access log line")
    assert passthrough_log_lines(env.stack, DEAD)[-1]["close_reason"] == "connect failed"


def test_a_hello_sent_byte_by_byte_arrives_unchanged(env):
    hello = client_hello(RAW)
    answer, seen = env.relay(b"", pieces=[bytes([b]) for b in hello] + [TAIL], pause=0.005)
    assert bytes(seen.data) == hello + TAIL
    assert answer == AFTER_EOF


def test_a_hello_split_over_two_records_arrives_as_sent(env):
    hello = client_hello(RAW)
    for at in (2, 40, len(hello) - 5 - 1):
        first, second = split_hello(hello, at)
        answer, seen = env.relay(b"", pieces=[first, second], pause=0.05)
        assert bytes(seen.data) == first + second, at
        assert answer == AFTER_EOF
        # Both in one segment too.
        answer, seen = env.relay(first + second + TAIL)
        assert bytes(seen.data) == first + second + TAIL, at


def test_a_15_kib_hello_passes_through_and_one_over_16_kib_is_left_to_pier(env):
    # Read in several pieces, still within the 16 KiB the dataplane reads.
    large = grown_hello(client_hello(RAW), 15000)
    assert 15000 < len(large) <= 16384
    answer, seen = env.relay(large + TAIL)
    assert bytes(seen.data) == large + TAIL
    assert answer == AFTER_EOF

    all_closed(env.stack, 5)
    before_connections = env.recorder.count()
    before = passthrough_counts(env.stack)
    big = grown_hello(client_hello(RAW), 17000)
    assert len(big) > 16384
    with connect(env.https_port) as sock:
        sock.sendall(big)
        first = sock.recv(5)
    # Pier's own handshake answered it (a ServerHello: OpenSSL got every byte, also those read
    # while looking for the end of the hello); the backend got nothing.
    assert first[:1] == b"\x16", first
    assert env.recorder.count() == before_connections
    counted(env.stack, before)
    all_closed(env.stack)


def test_garbage_on_the_tls_port_harms_nothing(env):
    cases = [b"GET / HTTP/1.1\r\nHost: raw.test\r\n\r\n",
             b"\x16\x03\x01\xff\xff" + bytes(64),          # a record longer than 2^14
             b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00",  # a handshake that is not a ClientHello
             b"\x16\x07\x01\x00\x10" + bytes(16),           # record version 7.x
             bytes(range(256)) * 8]
    all_closed(env.stack, 5)
    before_connections = env.recorder.count()
    for data in cases:
        with connect(env.https_port, timeout=3) as sock:
            sock.sendall(data)
            try:
                recv_until_eof(sock)
            except socket.timeout:
                pass
    # Clients that leave in the middle of a ClientHello.
    for partial in (b"\x16\x03", client_hello(RAW)[:200]):
        with connect(env.https_port) as sock:
            sock.sendall(partial)
    all_closed(env.stack)
    env.stack.check_alive()
    assert env.recorder.count() == before_connections
    assert env.https_get(APP).status == 200
    answer, seen = env.relay(client_hello(RAW))
    assert answer == AFTER_EOF


def test_eight_mib_each_way(env):
    payload = os.urandom(8 << 20)
    bytes_in = metric(env.stack.admin_port, "pier_bytes_total", direction="in")
    bytes_out = metric(env.stack.admin_port, "pier_bytes_total", direction="out")
    hello = client_hello(ECHO)
    errors: list[BaseException] = []
    with connect(env.https_port, timeout=30) as sock:
        def send() -> None:
            try:
                sock.sendall(hello + payload)
                sock.shutdown(socket.SHUT_WR)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        sender = threading.Thread(target=send)
        sender.start()
        received = recv_until_eof(sock)
        sender.join(timeout=30)
    assert not errors, errors
    assert len(received) == len(hello) + len(payload)
    assert hashlib.sha256(received).digest() == hashlib.sha256(hello + payload).digest()
    total = len(hello) + len(payload)
    wait_until(lambda: metric(env.stack.admin_port, "pier_bytes_total", direction="in") - bytes_in >= total, 5,
               "pier_bytes_total{direction=\"in\"} to count the upload")
    wait_until(lambda: metric(env.stack.admin_port, "pier_bytes_total", direction="out") - bytes_out >= total, 5,
               "pier_bytes_total{direction=\"out\"} to count the download")


# -- what applies from the Ingress -------------------------------------------------------------

def test_source_ranges_close_before_anything_reaches_the_backend(env):
    before = passthrough_counts(env.stack)
    connections = env.guarded.count()
    for host in (GUARDED, BANNED):
        assert closed_right_away(env.https_port, client_hello(host) + TAIL) == b"", host
    time.sleep(0.2)
    assert env.guarded.count() == connections, "a denied client reached the backend"
    counted(env.stack, before, denied=2)
    # 127.0.0.2 is in guarded.test's allowlist (and banned.test's denylist).
    with connect(env.https_port, source="127.0.0.2") as sock:
        hello = client_hello(GUARDED)
        sock.sendall(hello)
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == AFTER_EOF
    assert bytes(env.guarded.connection(connections).data) == hello
    assert closed_right_away(env.https_port, client_hello(BANNED), source="127.0.0.2") == b""
    counted(env.stack, before, denied=3, proxied=1)


def test_no_endpoints_closes_after_the_hello(env):
    before = passthrough_counts(env.stack)
    for host in (EMPTY, MISSING):
        assert closed_right_away(env.https_port, client_hello(host)) == b"", host
    counted(env.stack, before, unavailable=2)
    # The rest goes on.
    assert env.https_get(APP).status == 200
    with open_echo(env.https_port) as sock:
        echo_roundtrip(sock, b"still here")


def test_connections_are_balanced_over_the_endpoints(env):
    before = env.echo.count(), env.echo2.count()
    for i in range(6):
        with open_echo(env.https_port, BALANCED) as sock:
            echo_roundtrip(sock, f"balanced-{i}".encode())
    spread = env.echo.count() - before[0], env.echo2.count() - before[1]
    # Round robin (per dataplane thread, two of them): both endpoints get some of the six.
    assert sum(spread) == 6 and min(spread) >= 1, spread


def test_a_refused_connect_goes_on_to_the_next_endpoint(env):
    before = passthrough_counts(env.stack)
    tries_before = retries(env.stack, "next")
    for i in range(8):
        with open_echo(env.https_port, NEXT) as sock:
            echo_roundtrip(sock, f"next-{i}".encode())
    counted(env.stack, before, proxied=8)
    assert retries(env.stack, "next") > tries_before, "no connect was retried on the next endpoint"


def test_a_connect_timeout_goes_on_to_the_next_endpoint(env):
    before = passthrough_counts(env.stack)
    tries_before = retries(env.stack, "slowconnect")
    for i in range(6):
        started = time.monotonic()
        with open_echo(env.https_port, SLOW) as sock:
            echo_roundtrip(sock, f"slow-{i}".encode())
        # proxy-connect-timeout 200ms, not the default 5s.
        assert time.monotonic() - started < 2.0
    counted(env.stack, before, proxied=6)
    assert retries(env.stack, "slowconnect") > tries_before, "no timed-out connect was retried"


def test_all_endpoints_dead_is_connect_failed(env):
    before = passthrough_counts(env.stack)
    assert closed_right_away(env.https_port, client_hello(DEAD) + TAIL) == b""
    counted(env.stack, before, connect_failed=1)


def test_the_active_gauge_follows_open_connections(env):
    wait_until(lambda: active(env.stack) == 0, 5, "no passthrough connection open")
    first = open_echo(env.https_port)
    try:
        wait_until(lambda: active(env.stack) == 1, 3, "the gauge at 1")
        with open_echo(env.https_port, IDLE) as second:
            echo_roundtrip(second, b"x")
            wait_until(lambda: active(env.stack) == 2, 3, "the gauge at 2")
        wait_until(lambda: active(env.stack) == 1, 3, "the gauge back at 1")
        echo_roundtrip(first, b"y")
    finally:
        first.close()
    wait_until(lambda: active(env.stack) == 0, 3, "the gauge back at 0")
    # A denied or failed connection never counts as open.
    closed_right_away(env.https_port, client_hello(GUARDED))
    closed_right_away(env.https_port, client_hello(DEAD))
    assert active(env.stack) == 0


def test_websocket_idle_timeout_closes_an_idle_connection(env):
    # Traffic more often than the timeout keeps it open...
    with open_echo(env.https_port, IDLE) as sock:
        for i in range(8):
            time.sleep(IDLE_TIMEOUT_S / 4)
            echo_roundtrip(sock, f"busy-{i}".encode())
        # ...silence closes it, after about the timeout.
        started = time.monotonic()
        assert recv_until_eof(sock) == b""
        elapsed = time.monotonic() - started
    assert IDLE_TIMEOUT_S * 0.8 <= elapsed <= IDLE_TIMEOUT_S + 3, elapsed
    # A host with the default (3600s) keeps its idle connection.
    with open_echo(env.https_port) as sock:
        time.sleep(IDLE_TIMEOUT_S * 1.5)
        echo_roundtrip(sock, b"not idle-closed")


# -- configuration changes and warnings --------------------------------------------------------

def test_an_open_connection_survives_snapshot_changes(env):
    stack = env.stack

    def applied(change) -> None:
        before = config_version(stack)
        change()
        wait_until(lambda: config_version(stack) > before, 10, "the dataplane to apply the change",
                   alive=stack.check_alive)

    with open_echo(env.https_port) as sock:
        echo_roundtrip(sock, b"before")
        # Another Ingress added...
        applied(lambda: stack.write_manifest("later.yaml", m.render(m.ingress("later", [("/", "chat")],
                                                                              host="later.test"))))
        assert request(stack.http_port, "GET", "/", headers={"Host": "later.test"}).status == 200
        echo_roundtrip(sock, b"after an Ingress was added")
        # ...edited...
        applied(lambda: stack.write_manifest("later.yaml", m.render(m.ingress(
            "later", [("/", "chat")], {PIER_PREFIX + "proxy-connect-timeout": "3s"}, host="later.test"))))
        echo_roundtrip(sock, b"after an Ingress was edited")
        # ...and the passthrough Ingress itself edited (its route is a new one now).
        edited = echo_ingress({PIER_PREFIX + "proxy-connect-timeout": "4s"})
        applied(lambda: stack.write_manifest("echo.yaml", m.render(edited)))
        echo_roundtrip(sock, b"after its own Ingress was edited")
        assert active(stack) >= 1
    # New connections use the new snapshot as well.
    with open_echo(env.https_port) as sock:
        echo_roundtrip(sock, b"new")


def test_controller_warnings(env):
    stack = env.stack
    wait_warning(stack, "pass-extra", "PassthroughHost", PASS)
    wait_warning(stack, "conflict-new", "ConflictingPassthrough", "conflict-old")
    wait_warning(stack, "nohost", "InvalidAnnotation", "without host")
    for ingress in ("pass", "raw", "wild", "echo"):
        assert controller_warnings(stack, ingress) == [], (ingress, controller_warnings(stack, ingress))
    # The older Ingress keeps conflict.test: Pier terminates its TLS and routes it.
    assert t.presented_certificate(env.https_port, CONFLICT).subject == f"CN = {APP}"
    response = env.https_get(CONFLICT, "/headers")
    assert response.status == 200 and response.header("X-Backend") == "chat-passthrough", response.text
    with pytest.raises(ssl.SSLCertVerificationError):
        t.TlsConnection(env.https_port, CONFLICT, env.backend_ca)


# -- real nginx --------------------------------------------------------------------------------

def test_nginx_ssl_preread_delivers_the_same_bytes(env, tmp_path):
    load_module, why = stream_preread_support()
    if load_module is None:
        pytest.skip(f"no nginx stream module with ssl_preread here: {why}")
    port = free_port()
    start_nginx_stream(env.stack.launcher, tmp_path, f"""\
        map $ssl_preread_server_name $passthrough {{
            {RAW} 127.0.0.1:{env.recorder.port};
            default 127.0.0.1:1;
        }}
        server {{
            listen 127.0.0.1:{port};
            ssl_preread on;
            proxy_pass $passthrough;
        }}
        """, port, load_module)
    hello = client_hello(RAW)
    delivered = {}
    for name, target in (("nginx", port), ("pier", env.https_port)):
        before = env.recorder.count()
        with connect(target) as sock:
            sock.sendall(hello + TAIL)
            seen = env.recorder.connection(before)
            wait_until(lambda: len(seen.data) >= len(hello + TAIL), IO_TIMEOUT_S, f"the bytes through {name}")
            delivered[name] = bytes(seen.data)
    assert delivered["nginx"] == delivered["pier"] == hello + TAIL


def test_nothing_crashed(env):
    env.stack.check_alive()
    assert env.https_get(APP).status == 200
    answer, seen = env.relay(client_hello(RAW) + TAIL)
    assert answer == AFTER_EOF and bytes(seen.data).endswith(TAIL)


# -- stacks of their own -----------------------------------------------------------------------

def test_without_the_flag_pier_terminates_tls_and_warns(stack, tmp_path):
    chat = stack.start_backend("chat-noflag")
    stack.https_port = free_port()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(*m.service_with_backends("chat", [chat.port]),
                                              m.ingress("pass", [("/", "chat")], PASSTHROUGH, host=PASS)))
    stack.start()
    wait_warning(stack, "pass", "PassthroughDisabled", "--enable-ssl-passthrough")
    assert t.presented_certificate(stack.https_port, PASS).subject == DEFAULT_SUBJECT
    backend_ca = t.make_ca(tmp_path / "certs", "Passthrough Backend CA")
    with pytest.raises(ssl.SSLCertVerificationError):
        t.TlsConnection(stack.https_port, PASS, backend_ca)
    response = t.https_get(stack.https_port, PASS, "/headers", None, headers={"Connection": "close"})
    assert response.status == 200, response.text
    assert response.header("X-Backend") == "chat-noflag"
    assert metric(stack.admin_port, "pier_tls_passthrough_connections_total", result="proxied") == 0


@pytest.fixture
def header_timeout_stack(stack):
    echo = RawBackend("echo")
    stack.https_port = free_port()
    stack.controller_args = ["--enable-ssl-passthrough"]
    stack.dataplane_args = ["--header-timeout", "1s"]
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("echo.yaml", m.render(*m.service_with_backends("echo", [echo.port]), echo_ingress()))
    stack.start()

    def passing() -> bool:
        with open_echo(stack.https_port):
            return True

    wait_until(passing, 10, "echo.test passed through", alive=stack.check_alive)
    yield stack
    echo.close()


def handshake_timeouts(stack: PierStack) -> float:
    try:
        return metric(stack.admin_port, "pier_tls_handshakes_total", result="timeout")
    except KeyError:
        return 0.0


def test_a_hello_that_never_completes_is_closed_after_the_header_timeout(header_timeout_stack):
    stack = header_timeout_stack
    before = handshake_timeouts(stack)
    counts = passthrough_counts(stack)
    for partial in (b"\x16\x03\x01", client_hello(ECHO)[:100]):
        with connect(stack.https_port) as sock:
            started = time.monotonic()
            sock.sendall(partial)
            assert recv_until_eof(sock) == b""
            elapsed = time.monotonic() - started
        assert 0.8 <= elapsed <= 3.0, elapsed
    wait_until(lambda: handshake_timeouts(stack) == before + 2, 3, "two handshake timeouts counted")
    counted(stack, counts)
    all_closed(stack)
    # The header timeout ends with the handoff: a passthrough connection may stay quiet longer.
    with open_echo(stack.https_port) as sock:
        time.sleep(1.6)
        echo_roundtrip(sock, b"still open")

