"""Client certificates to HTTPS backends: backend-protocol HTTPS with a proxy-ssl-secret whose
tls.crt and tls.key are the certificate Pier presents when the backend asks for one (nginx's
proxy_ssl_certificate / proxy_ssl_certificate_key), next to ca.crt (the CAs the backend is
verified with) or without it (a kubernetes.io/tls Secret).

- A backend that requires a client certificate gets Pier's and is served (200), plain GETs and
  WebSocket upgrades alike; without one, or with one from a CA it does not trust, it refuses the
  handshake and Pier answers 502.
- Half a key pair, or a key that does not match the certificate, closes the Ingress' routes
  (503 naming the problem) with an InvalidAnnotation warning; other Ingresses keep working.
- A new tls.crt/tls.key takes effect with the next snapshot, also for a client connection kept
  alive from before, and the upstream connection pooled with the old certificate is not reused.
- The last-but-one test configures real nginx with proxy_ssl_certificate against the same
  backend and compares statuses and the certificate the backend saw.

Everything runs on 127.0.0.1: the backend is a TLS server in the test process (below) that
requires a client certificate from one CA, answers each GET with the subject CN of the
certificate it saw and echoes WebSocket messages; the controller runs in manifests mode.
Certificates are made with the openssl CLI in the module's tmp dir.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import socket
import ssl
import struct
from dataclasses import dataclass, field
from typing import Optional

import pytest
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.sync.client import connect

import manifests as m
import tlsutil as t
from harness import PierStack, wait_until
from nginxutil import NGINX, start_nginx
from promtext import samples
from rawhttp import Connection, format_request, request

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"

SERVICE = "secure"
BACKEND_NAME = "secure.default.svc"  # the name Pier verifies by default: the Service's DNS name

GOOD = "good.test"                  # ca.crt + alice's tls.crt/tls.key (nginx.ingress.kubernetes.io/ keys)
CA_ONLY = "ca-only.test"            # ca.crt alone: no client certificate
TLS_ONLY = "tls-only.test"          # a kubernetes.io/tls Secret (alice, no ca.crt), proxy-ssl-verify off
TLS_ONLY_VERIFY = "tls-only-verify.test"  # the same Secret, verification left on (the system's CAs)
UNTRUSTED = "untrusted.test"        # ca.crt + mallory, whose CA the backend does not trust
HALF_CRT = "half-crt.test"          # ca.crt + tls.crt, no tls.key
HALF_KEY = "half-key.test"          # ca.crt + tls.key, no tls.crt
MISMATCH = "mismatch.test"          # ca.crt + alice's tls.crt with bob's tls.key
TLS_MISMATCH = "tls-mismatch.test"  # a kubernetes.io/tls Secret (no ca.crt): alice's tls.crt, bob's tls.key
ROTATE = "rotate.test"              # ca.crt + alice, then bob (rotate.yaml)
RESETS = "resets.test"              # another Service: a TLS backend that resets every connection after the handshake

ALICE, BOB, MALLORY = "alice", "bob", "mallory"

SNAPSHOT_TIMEOUT_S = 10
WARNING_TIMEOUT_S = 10
BACKEND_IDLE_S = 30
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# -- the backend ---------------------------------------------------------------------------------

@dataclass
class BackendRequest:
    connection: int             # which TLS connection of the backend it came on (0, 1, ...)
    cn: str                     # the subject CN of that connection's client certificate
    target: str
    headers: dict[str, str]     # lower-case names


def _common_name(certificate: Optional[dict]) -> str:
    for rdn in (certificate or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


class MtlsBackend(t.TlsTestServer):
    """HTTPS on 127.0.0.1 requiring a client certificate issued by `client_ca` (CERT_REQUIRED):
    a handshake without one, or with another, fails and is kept in `refused`. Each GET gets 200
    with the client certificate's CN as body and in X-Client-CN, on keep-alive connections; an
    upgrade to WebSocket is accepted and every message echoed."""

    def __init__(self, server: t.KeyPair, client_ca: t.KeyPair):
        context = t.server_context(server)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(str(client_ca.cert))
        self._requests: list[BackendRequest] = []
        self._refused: list[str] = []      # why each refused handshake failed
        self.websocket_cns: list[str] = []  # the CN of each upgraded connection
        super().__init__(context, timeout=BACKEND_IDLE_S)

    def requests(self) -> list[BackendRequest]:
        with self._lock:
            return list(self._requests)

    def refused(self) -> list[str]:
        with self._lock:
            return list(self._refused)

    def request_of(self, test_id: str) -> Optional[BackendRequest]:
        """The request with X-Test-Id `test_id` (None: it never got here); there is at most one."""
        found = [r for r in self.requests() if r.headers.get("x-test-id") == test_id]
        assert len(found) <= 1, f"{test_id} reached the backend {len(found)} times"
        return found[0] if found else None

    def refused_handshake(self, number: int, error: OSError) -> None:
        with self._lock:
            self._refused.append(str(error))

    def handle(self, tls: ssl.SSLSocket, number: int) -> None:
        cn = _common_name(tls.getpeercert())
        reader = tls.makefile("rb")
        for target, headers in self.request_heads(reader):
            with self._lock:
                self._requests.append(BackendRequest(number, cn, target, headers))
            if headers.get("upgrade", "").lower() == "websocket":
                with self._lock:
                    self.websocket_cns.append(cn)
                self._echo(tls, reader, headers)
                return
            body = f"{cn}\n".encode()
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Client-CN: " + cn.encode() +
                        b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    @staticmethod
    def _echo(tls: ssl.SSLSocket, reader, headers: dict[str, str]) -> None:
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + WS_GUID).encode()).digest())
        tls.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        protocol = ServerProtocol(state=State.OPEN, max_size=None)  # websockets' framing, sans I/O
        echo = {Opcode.TEXT: protocol.send_text, Opcode.BINARY: protocol.send_binary,
                Opcode.CONT: protocol.send_continuation}
        while True:
            data = reader.read1(65536)
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            for frame in protocol.events_received():
                if frame.opcode in echo:
                    echo[frame.opcode](frame.data, fin=frame.fin)
            for chunk in protocol.data_to_send():
                if not chunk:  # the end of the connection
                    return
                tls.sendall(chunk)
            if not data:
                return


class ResettingBackend(t.TlsTestServer):
    """HTTPS on 127.0.0.1 that completes the handshake, reads the request head, then resets the
    connection (SO_LINGER 0) without a response; `resets` counts them."""

    def __init__(self, server: t.KeyPair):
        self.resets = 0
        super().__init__(t.server_context(server), BACKEND_IDLE_S)

    def handle(self, tls: ssl.SSLSocket, number: int) -> None:
        if t.read_request_head(tls.makefile("rb")) is None:
            return
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._lock:
            self.resets += 1


# -- the stack -----------------------------------------------------------------------------------

@dataclass
class Seen(t.Exchange):
    upstream: Optional[BackendRequest]  # None: the request never reached the backend

    def outcome(self) -> tuple:
        """What has to be the same with nginx: the status and the CN the backend saw (None: no request)."""
        return self.status, self.upstream.cn if self.upstream else None


@dataclass
class Clients:
    alice: t.KeyPair    # /O=Pier Test/CN=alice, issued by the client CA the backend trusts
    bob: t.KeyPair      # /O=Pier Test/CN=bob, the same CA (the rotated certificate)
    mallory: t.KeyPair  # /O=Elsewhere/CN=mallory, issued by a CA the backend does not trust


@dataclass
class Env:
    stack: PierStack
    backend: MtlsBackend
    backend_ca: t.KeyPair
    clients: Clients
    resetting: ResettingBackend
    _ids: itertools.count = field(default_factory=itertools.count)

    def next_id(self) -> str:
        return f"backend-mtls-{next(self._ids)}"

    def get(self, host: str, path: str = "/hello", port: Optional[int] = None) -> Seen:
        test_id = self.next_id()
        response = request(port or self.stack.http_port, "GET", path, headers={"Host": host, "X-Test-Id": test_id})
        return Seen(response, self.backend.request_of(test_id))

    def get_on(self, connection: Connection, host: str) -> Seen:
        """A keep-alive GET on `connection`."""
        test_id = self.next_id()
        connection.send(format_request("GET", "/kept", headers={"X-Test-Id": test_id}, host=host))
        return Seen(connection.read_response(), self.backend.request_of(test_id))


def secret(name: str, data: dict[str, str], kind: str = "Opaque") -> dict:
    """A Secret of type `kind` with `data` (key -> text)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": kind, "metadata": {"name": name, "namespace": m.NAMESPACE},
            "data": {key: t.b64(value) for key, value in data.items()}}


def https_ingress(name: str, host: str, secret_name: str, prefix: str = PIER_PREFIX, **keys: str) -> dict:
    """An Ingress for `host` to the backend over HTTPS with proxy-ssl-secret default/`secret_name`
    and proxy-ssl-<key> (underscores as dashes) under `prefix`."""
    annotations = {prefix + "backend-protocol": "HTTPS", prefix + "proxy-ssl-secret": f"default/{secret_name}"}
    for key, value in keys.items():
        annotations[prefix + "proxy-ssl-" + key.replace("_", "-")] = value
    return m.ingress(name, [("/", SERVICE)], annotations, host=host)


def rotation_manifest(backend_ca: t.KeyPair, client: t.KeyPair, generation: int) -> str:
    """The rotating Secret with `client`'s certificate, its Ingress, and an Ingress that redirects
    marker-`generation`.test: once that host is routed, the snapshot with this Secret is applied
    (one file, read at once)."""
    return m.render(
        secret("rotating", {"ca.crt": backend_ca.cert_pem, "tls.crt": client.cert_pem, "tls.key": client.key_pem}),
        https_ingress("rotating", ROTATE, "rotating"),
        m.ingress("marker", [("/", "nothing")], {PIER_PREFIX + "permanent-redirect": "https://marker.example/"},
                  host=f"marker-{generation}.test"))


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory) -> Env:
    workdir = tmp_path_factory.mktemp("backend-client-cert")
    certs = workdir / "certs"
    stack = PierStack(module_launcher, workdir)
    backend_ca = t.make_ca(certs, "Backend CA")
    client_ca = t.make_ca(certs, "Backend Client CA")
    other_ca = t.make_ca(certs, "Other Client CA")
    clients = Clients(alice=t.issue_client(client_ca, certs, ALICE, f"/O=Pier Test/CN={ALICE}"),
                      bob=t.issue_client(client_ca, certs, BOB, f"/O=Pier Test/CN={BOB}"),
                      mallory=t.issue_client(other_ca, certs, MALLORY, f"/O=Elsewhere/CN={MALLORY}"))
    backend = MtlsBackend(t.issue(backend_ca, certs, BACKEND_NAME), client_ca)
    resetting = ResettingBackend(t.issue(backend_ca, certs, "resets.default.svc"))
    alice, bob, mallory = clients.alice, clients.bob, clients.mallory
    ca = backend_ca.cert_pem

    stack.write_manifest("class.yaml", m.render(m.ingress_class(), *m.service_with_backends(SERVICE, [backend.port]),
                                                *m.service_with_backends("resets", [resetting.port])))
    stack.write_manifest("mtls.yaml", m.render(
        secret("good", {"ca.crt": ca, "tls.crt": alice.cert_pem, "tls.key": alice.key_pem}),
        t.ca_secret("ca-only", ca),
        t.tls_secret("tls-only", alice.cert_pem, alice.key_pem),
        secret("untrusted", {"ca.crt": ca, "tls.crt": mallory.cert_pem, "tls.key": mallory.key_pem}),
        secret("half-crt", {"ca.crt": ca, "tls.crt": alice.cert_pem}),
        secret("half-key", {"ca.crt": ca, "tls.key": alice.key_pem}),
        secret("mismatch", {"ca.crt": ca, "tls.crt": alice.cert_pem, "tls.key": bob.key_pem}),
        t.tls_secret("tls-mismatch", alice.cert_pem, bob.key_pem),
        https_ingress("good", GOOD, "good", prefix=NGINX_PREFIX),
        https_ingress("ca-only", CA_ONLY, "ca-only"),
        https_ingress("tls-only", TLS_ONLY, "tls-only", verify="off"),
        https_ingress("tls-only-verify", TLS_ONLY_VERIFY, "tls-only"),
        https_ingress("untrusted", UNTRUSTED, "untrusted"),
        https_ingress("half-crt", HALF_CRT, "half-crt"),
        https_ingress("half-key", HALF_KEY, "half-key"),
        https_ingress("mismatch", MISMATCH, "mismatch"),
        https_ingress("tls-mismatch", TLS_MISMATCH, "tls-mismatch", verify="off"),
        m.ingress("resets", [("/", "resets")], {PIER_PREFIX + "backend-protocol": "HTTPS"}, host=RESETS),
    ))
    stack.write_manifest("rotate.yaml", rotation_manifest(backend_ca, alice, 1))
    stack.start()
    ready = Env(stack, backend, backend_ca, clients, resetting)
    wait_until(lambda: ready.get(GOOD).status == 200, SNAPSHOT_TIMEOUT_S, f"{GOOD} served", alive=stack.check_alive)
    yield ready
    backend.close()
    resetting.close()


def assert_served(seen: Seen, cn: str) -> None:
    assert seen.status == 200, (seen.status, seen.response.text)
    assert seen.upstream is not None, "a 200 that did not come from the backend"
    assert seen.upstream.cn == cn, seen.upstream
    assert seen.response.header("X-Client-CN") == cn and seen.response.text == f"{cn}\n", seen.response


def assert_refused_by_backend(env: Env, seen: Seen, refused_before: int, why: str) -> None:
    """502, nothing reached the backend, and the backend refused a handshake because of `why`."""
    assert seen.status == 502, (seen.status, seen.response.text)
    assert seen.upstream is None, f"a refused handshake still reached the backend: {seen.upstream}"
    wait_until(lambda: len(env.backend.refused()) > refused_before, 5, "the backend's refused handshake")
    reasons = env.backend.refused()[refused_before:]
    assert any(why in reason for reason in reasons), reasons


# -- the tests -----------------------------------------------------------------------------------

def test_the_backend_gets_the_client_certificate_of_the_secret(env):
    assert_served(env.get(GOOD), ALICE)
    assert_served(env.get(GOOD, "/other?x=1"), ALICE)


def test_without_a_client_certificate_the_backend_refuses_the_handshake_502(env):
    before = len(env.backend.refused())
    assert_refused_by_backend(env, env.get(CA_ONLY), before, "PEER_DID_NOT_RETURN_A_CERTIFICATE")


def test_a_refused_handshake_is_named_in_the_502_and_ejects_no_endpoint(env):
    # The backend refusing what one Ingress presents is a matter of that Ingress' settings; the
    # endpoint is the Service's, shared with every other Ingress of it (GOOD here), so passive
    # health must not eject it for them.
    def ejections() -> float:
        return sum(value for _, value in samples(request(env.stack.admin_port, "GET", "/metrics").text,
                                                 "pier_upstream_ejections_total"))

    before = ejections()
    reasons = []
    for _ in range(6):
        seen = env.get(CA_ONLY)
        assert seen.status == 502, (seen.status, seen.response.text)
        reasons.append(seen.response.text)
        assert_served(env.get(GOOD), ALICE)
    assert ejections() == before, reasons
    # The TLS 1.3 alert the backend sent after the handshake rather than "closed the connection";
    # when the backend's close reached Pier before the request was written, the write's reset.
    named = "upstream TLS error: tlsv13 alert certificate required\n"
    assert set(reasons) <= {named, "upstream write failed: Connection reset by peer\n"}, reasons
    # A TLS backend that resets the connection right after the handshake, before any response:
    # its endpoint completed a handshake and is up, so that is not an endpoint failure either
    # (over plain HTTP the same reset ejects it, see test_next_upstream.py).
    for _ in range(3):
        seen = env.get(RESETS)
        assert seen.status == 502, (seen.status, seen.response.text)
        assert seen.response.text == "upstream closed the connection before responding\n", seen.response.text
    wait_until(lambda: env.resetting.resets >= 3, 5, "the resetting backend's resets")
    assert ejections() == before


def test_a_kubernetes_tls_secret_without_ca_crt(env):
    assert_served(env.get(TLS_ONLY), ALICE)
    # Verification stays on by default with proxy-ssl-secret: the system's CAs do not know the backend's.
    seen = env.get(TLS_ONLY_VERIFY)
    assert seen.status == 502, (seen.status, seen.response.text)
    assert f"upstream TLS certificate not trusted for {BACKEND_NAME}" in seen.response.text, seen.response.text
    assert seen.upstream is None


def test_websocket_upgrade_to_a_backend_that_requires_a_client_certificate(env):
    upgrades = len(env.backend.websocket_cns)
    raw = socket.create_connection(("127.0.0.1", env.stack.http_port), timeout=5)
    with connect(f"ws://{GOOD}/ws", sock=raw, open_timeout=5, close_timeout=2) as ws:
        for i in range(5):
            ws.send(f"mtls {i}")
            assert ws.recv(timeout=5) == f"mtls {i}"
        payload = bytes(range(256)) * 400  # 100 KiB
        ws.send(payload)
        assert ws.recv(timeout=5) == payload
    assert env.backend.websocket_cns[upgrades:] == [ALICE]


def test_half_a_key_pair_or_a_mismatched_key_closes_the_ingress_with_503_and_a_warning(env):
    cases = {HALF_CRT: ("half-crt", "secret default/half-crt has tls.crt but no tls.key"),
             HALF_KEY: ("half-key", "secret default/half-key has tls.key but no tls.crt"),
             MISMATCH: ("mismatch", "secret default/mismatch: client certificate: "),
             # Without ca.crt the key pair is what is wrong, and what is reported.
             TLS_MISMATCH: ("tls-mismatch", "secret default/tls-mismatch: client certificate: ")}
    for host, (ingress, problem) in cases.items():
        seen = env.get(host)
        assert seen.status == 503, (host, seen.status, seen.response.text)
        assert f"backend TLS client certificate unusable: {problem}" in seen.response.text, seen.response.text
        assert seen.upstream is None, host

        def reported() -> bool:
            return any(line.startswith("InvalidAnnotation:") and "proxy-ssl-secret" in line and problem in line
                       for line in t.controller_warnings(env.stack, ingress))

        wait_until(reported, WARNING_TIMEOUT_S, f"the controller's InvalidAnnotation warning about {ingress}")
    # The other Ingresses of the dataplane keep working.
    assert_served(env.get(GOOD), ALICE)
    assert t.controller_warnings(env.stack, "good") == []


def test_rotating_the_client_certificate_takes_effect_with_the_next_snapshot(env):
    with Connection(env.stack.http_port) as kept:
        first, second = env.get_on(kept, ROTATE), env.get_on(kept, ROTATE)
        assert_served(first, ALICE)
        assert_served(second, ALICE)
        # One pooled upstream connection made with alice's certificate: what must not be reused.
        assert first.upstream.connection == second.upstream.connection, \
            "the dataplane did not reuse the upstream connection: the check below would prove nothing"
        old = first.upstream.connection
        requests_before = len(env.backend.requests())

        env.stack.write_manifest("rotate.yaml", rotation_manifest(env.backend_ca, env.clients.bob, 2))
        wait_until(lambda: env.get("marker-2.test").status != 404, SNAPSHOT_TIMEOUT_S,
                   "the snapshot with bob's certificate applied", alive=env.stack.check_alive)

        assert_served(env.get_on(kept, ROTATE), BOB)  # the client connection from before
        for _ in range(6):
            assert_served(env.get(ROTATE), BOB)
        assert_served(env.get_on(kept, ROTATE), BOB)
    late = [r for r in env.backend.requests()[requests_before:] if r.connection == old]
    assert late == [], f"requests after the rotation on the upstream connection made with alice's: {late}"


def test_a_client_certificate_the_backend_does_not_trust_is_502(env):
    before = len(env.backend.refused())
    assert_refused_by_backend(env, env.get(UNTRUSTED), before, "CERTIFICATE_VERIFY_FAILED")


_NGINX_UPSTREAM = "upstream backend_{case} {{ server 127.0.0.1:{port}; }}\n"

_NGINX_LOCATION = """\
location /{case}/ {{
    proxy_pass https://backend_{case};
{certificate}    proxy_ssl_trusted_certificate {ca};
    proxy_ssl_verify {verify};
    proxy_ssl_name {name};
    proxy_ssl_server_name on;
}}
"""


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_answers_as_nginx_with_proxy_ssl_certificate(env, tmp_path):
    """nginx as ingress-nginx configures a location for these annotations (the Secret's tls.crt
    and tls.key as proxy_ssl_certificate and _key, ca.crt as proxy_ssl_trusted_certificate), one
    location per case, against the same backend: the same status and the same CN at the backend.
    Each location has an upstream block of its own: nginx keeps one TLS session per upstream
    peer (proxy_ssl_session_reuse), and locations sharing `proxy_pass https://127.0.0.1:PORT`
    share it, so a location without a certificate would resume the session another location
    made with alice's and the backend would see alice."""
    c = env.clients
    cases = {  # case: (Pier's host, client certificate, proxy_ssl_verify)
        "good": (GOOD, c.alice, "on"),
        "none": (CA_ONLY, None, "on"),
        "untrusted": (UNTRUSTED, c.mallory, "on"),
        "tls-only": (TLS_ONLY, c.alice, "off"),
    }
    server = "".join(_NGINX_LOCATION.format(
        case=case, ca=env.backend_ca.cert, verify=verify, name=BACKEND_NAME,
        certificate=(f"    proxy_ssl_certificate {client.cert};\n    proxy_ssl_certificate_key {client.key};\n"
                     if client else "")) for case, (_, client, verify) in cases.items())
    upstreams = "".join(_NGINX_UPSTREAM.format(case=case, port=env.backend.port) for case in cases)
    nginx, port = start_nginx(env.stack.launcher, tmp_path, server, http=upstreams)
    try:
        theirs = {case: env.get(host, f"/{case}/x", port=port).outcome() for case, (host, _, _) in cases.items()}
    finally:
        nginx.stop()
    ours = {case: env.get(host, f"/{case}/x").outcome() for case, (host, _, _) in cases.items()}
    assert ours == theirs, f"nginx {theirs}\npier  {ours}"
    # The comparison means something: the backend served two of the cases and refused two.
    assert theirs == {"good": (200, ALICE), "none": (502, None), "untrusted": (502, None), "tls-only": (200, ALICE)}


def test_nothing_crashed(env):
    env.stack.check_alive()
    assert_served(env.get(GOOD), ALICE)
