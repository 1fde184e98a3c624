"""How Pier speaks TLS to an HTTPS backend (backend-protocol HTTPS): proxy-ssl-server-name,
proxy-ssl-verify-depth, proxy-ssl-ciphers and proxy-ssl-protocols, as ingress-nginx's
annotations of the same names (under nginx.ingress.kubernetes.io/ or pier.dev/).

- SNI: the proxy-ssl-name (by default NAME.NAMESPACE.svc of the Service) goes out as SNI unless
  proxy-ssl-server-name is off; with off none is sent, and the name is still verified.
- Protocols: the versions offered are the listed ones of TLSv1.2 and TLSv1.3 (TLSv1 and
  TLSv1.1 accepted and skipped); a backend that speaks none of them refuses the handshake: 502.
- Ciphers: the TLS 1.2 ciphers offered; a backend sharing none refuses the handshake: 502; TLS
  1.3's suites are not affected.
- Verify depth: how many intermediate CAs may stand between the backend's certificate and a
  trusted CA; a longer chain is not trusted: 502.
- An invalid value of any of them makes the Ingress' routes answer 503 with an
  InvalidAnnotation warning; other Ingresses (one without these annotations, on the same
  Service) keep working.
- Every valid case is also run through real nginx configured as ingress-nginx would configure
  it (proxy_ssl_*), against the same backends: the same statuses, and for a 200 the same SNI,
  TLS version and cipher at the backend.

Everything runs on 127.0.0.1: the backends are TLS servers in the test process (Python's ssl)
that record the SNI they were offered (sni_callback) and every failed handshake, and answer each
GET with the SNI, the negotiated version and cipher of their connection. Certificates are made
with the openssl CLI in the module's tmp dir.
"""

from __future__ import annotations

import itertools
import json
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

import manifests as m
import tlsutil as t
from harness import PierStack, wait_until
from nginxutil import NGINX, start_nginx
from rawhttp import request

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"

SNAPSHOT_TIMEOUT_S = 10
WARNING_TIMEOUT_S = 10
BACKEND_IDLE_S = 30

NOT_CALLED = "(sni_callback not called)"


# -- the backends --------------------------------------------------------------------------------

@dataclass
class Handshake:
    number: int                 # which TLS connection of the backend (0, 1, ...)
    sni: object                 # the name offered, None (no SNI) or NOT_CALLED
    version: Optional[str]      # None: the handshake failed
    cipher: Optional[str]
    error: Optional[str] = None  # why it failed


@dataclass
class BackendRequest:
    handshake: Handshake
    target: str
    headers: dict[str, str]     # lower-case names


class ProbeBackend(t.TlsTestServer):
    """HTTPS on 127.0.0.1 with `context` (a server context: its certificate chain, versions and
    ciphers). Records each handshake: the SNI its sni_callback saw, then the negotiated version
    and cipher, or why it failed. Each GET gets 200 with those as JSON and in X-Tls-* headers,
    on keep-alive connections (closed after a request with Connection: close)."""

    def __init__(self, context: ssl.SSLContext):
        context.sni_callback = self._on_sni
        # The callback runs on the thread doing the handshake: a new one for each connection.
        self._local = threading.local()
        self._handshakes: list[Handshake] = []
        self._requests: list[BackendRequest] = []
        super().__init__(context, timeout=BACKEND_IDLE_S)

    def _on_sni(self, _sock, server_name, _context):
        self._local.sni = server_name
        return None

    def handshakes(self) -> list[Handshake]:
        with self._lock:
            return list(self._handshakes)

    def failed(self) -> list[Handshake]:
        return [h for h in self.handshakes() if h.error is not None]

    def request_of(self, test_id: str) -> Optional[BackendRequest]:
        with self._lock:
            found = [r for r in self._requests if r.headers.get("x-test-id") == test_id]
        assert len(found) <= 1, f"{test_id} reached the backend {len(found)} times"
        return found[0] if found else None

    def _sni(self) -> object:
        """What this connection's sni_callback saw: the name, None (no SNI), or NOT_CALLED."""
        return getattr(self._local, "sni", NOT_CALLED)

    def refused_handshake(self, number: int, error: OSError) -> None:
        with self._lock:
            self._handshakes.append(Handshake(number, self._sni(), None, None, str(error)))

    def handle(self, tls: ssl.SSLSocket, number: int) -> None:
        handshake = Handshake(number, self._sni(), tls.version(), tls.cipher()[0])
        with self._lock:
            self._handshakes.append(handshake)
        reader = tls.makefile("rb")
        for target, headers in self.request_heads(reader):
            with self._lock:
                self._requests.append(BackendRequest(handshake, target, headers))
            body = json.dumps({"sni": handshake.sni, "version": handshake.version,
                               "cipher": handshake.cipher, "connection": number}).encode()
            sni = "(none)" if handshake.sni is None else str(handshake.sni)
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
                        f"X-Tls-Sni: {sni}\r\nX-Tls-Version: {handshake.version}\r\n"
                        f"X-Tls-Cipher: {handshake.cipher}\r\n".encode() +
                        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            if headers.get("connection", "").lower() == "close":
                return


def backend_context(chain: Path, key: Path, minimum: Optional[ssl.TLSVersion] = None,
                    maximum: Optional[ssl.TLSVersion] = None, ciphers: Optional[str] = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(chain), str(key))
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    if ciphers is not None:
        context.set_ciphers(ciphers)
    return context


# -- the cases -----------------------------------------------------------------------------------

ONLY_CIPHER = "ECDHE-ECDSA-AES256-GCM-SHA384"     # the one TLS 1.2 cipher of the `cipher` backend
OTHER_CIPHER = "ECDHE-ECDSA-CHACHA20-POLY1305"    # one it does not have
TLS12, TLS13 = "TLSv1.2", "TLSv1.3"

# Services: each has a backend of its own, verified (proxy-ssl-secret) with the CA in the Secret.
SERVICES = {
    # service: (the Secret with its CA, what the backend is)
    "secure": ("backend-ca", "TLS 1.2 and 1.3, a certificate for secure.default.svc and alias.internal"),
    "misnamed": ("backend-ca", "a certificate for elsewhere.internal only"),
    "tls12": ("backend-ca", "TLS 1.2 at most"),
    "tls13": ("backend-ca", "TLS 1.3 only"),
    "cipher": ("backend-ca", f"TLS 1.2 at most, the one cipher {ONLY_CIPHER}"),
    "deep": ("deep-root", "leaf <- intermediate 2 <- intermediate 1 <- root, sending both intermediates"),
}


@dataclass
class Case:
    """An Ingress for `host` (the case's name + .test) to `service` over HTTPS, verified with the
    service's CA Secret, with proxy-ssl-<key> annotations `keys` under `prefix`."""
    name: str
    service: str
    keys: dict[str, str] = field(default_factory=dict)
    prefix: str = PIER_PREFIX

    @property
    def host(self) -> str:
        return f"{self.name}.test"

    def ingress(self) -> dict:
        annotations = {self.prefix + "backend-protocol": "HTTPS",
                       self.prefix + "proxy-ssl-secret": f"default/{SERVICES[self.service][0]}"}
        annotations.update({self.prefix + "proxy-ssl-" + key: value for key, value in self.keys.items()})
        return m.ingress(self.name, [("/", self.service)], annotations, host=self.host)


VALID = [Case(*args) for args in [
    # SNI
    ("sni-default", "secure"),
    ("sni-on", "secure", {"server-name": "on"}),
    ("sni-named", "secure", {"name": "alias.internal"}),
    ("sni-off", "secure", {"server-name": "off"}, NGINX_PREFIX),
    ("sni-off-named", "misnamed", {"server-name": "off", "name": "elsewhere.internal"}),
    ("sni-off-misnamed", "misnamed", {"server-name": "off"}),
    # protocols
    ("proto-default-12", "tls12"),
    ("proto-13-to-12", "tls12", {"protocols": TLS13}, NGINX_PREFIX),
    ("proto-12", "tls12", {"protocols": TLS12}),
    ("proto-legacy", "tls12", {"protocols": "TLSv1 TLSv1.1 TLSv1.2"}, NGINX_PREFIX),
    ("proto-12-to-13", "tls13", {"protocols": TLS12}),
    ("proto-13", "tls13", {"protocols": TLS13}),
    ("proto-default-13", "secure", {"protocols": "TLSv1.2 TLSv1.3"}),
    ("proto-12-to-both", "secure", {"protocols": TLS12}),
    # ciphers
    ("cipher-default", "cipher"),
    ("cipher-match", "cipher", {"ciphers": ONLY_CIPHER}, NGINX_PREFIX),
    ("cipher-list", "cipher", {"ciphers": f"ECDHE-ECDSA-AES128-GCM-SHA256:{ONLY_CIPHER}"}),
    ("cipher-other", "cipher", {"ciphers": OTHER_CIPHER}),
    ("cipher-other-13", "secure", {"ciphers": OTHER_CIPHER}),
    # verify depth (two intermediates)
    ("depth-default", "deep"),
    ("depth-0", "deep", {"verify-depth": "0"}),
    ("depth-0-direct", "secure", {"verify-depth": "0"}),  # a leaf the trusted CA signed itself
    ("depth-1", "deep", {"verify-depth": "1"}),
    ("depth-2", "deep", {"verify-depth": "2"}, NGINX_PREFIX),
    ("depth-3", "deep", {"verify-depth": "3"}),
    ("depth-1-unverified", "deep", {"verify-depth": "1", "verify": "off"}),
]]
CASES = {case.name: case for case in VALID}

# The Ingress without any of the four annotations, on the Service most of the cases use.
BASELINE = Case("baseline", "secure")

INVALID = {
    # name: (the key, the value)
    "bad-protocols-tls11": ("protocols", "TLSv1.1"),
    "bad-protocols-sslv3": ("protocols", "SSLv3"),
    "bad-ciphers-unknown": ("ciphers", "NOT-A-CIPHER"),
    "bad-ciphers-chars": ("ciphers", "AES;rm"),
    "bad-depth": ("verify-depth", "101"),
    "bad-server-name": ("server-name", "maybe"),
}


@dataclass
class Seen(t.Exchange):
    upstream: Optional[BackendRequest]  # None: the request never reached a backend

    def tls(self) -> dict:
        """What the backend saw of this request's connection (from the response)."""
        assert self.status == 200, (self.status, self.text)
        assert self.upstream is not None, "a 200 that did not come from the backend"
        return self.response.json()

    def outcome(self) -> tuple:
        """What has to be the same with nginx: the status and, for a 200, the SNI, the version
        and the cipher the backend saw."""
        if self.status != 200:
            return (self.status,)
        seen = self.tls()
        return self.status, seen["sni"], seen["version"], seen["cipher"]


@dataclass
class Env:
    stack: PierStack
    backends: dict[str, ProbeBackend]
    cas: dict[str, t.KeyPair]           # Secret name -> its CA
    _ids: itertools.count = field(default_factory=itertools.count)

    def get(self, host: str, path: str = "/hello", port: Optional[int] = None) -> Seen:
        test_id = f"backend-tls-options-{next(self._ids)}"
        response = request(port or self.stack.http_port, "GET", path, headers={"Host": host, "X-Test-Id": test_id})
        found = [r for r in (b.request_of(test_id) for b in self.backends.values()) if r is not None]
        assert len(found) <= 1, found
        return Seen(response, found[0] if found else None)

    def case(self, name: str) -> Seen:
        return self.get(CASES[name].host)

    def backend_of(self, name: str) -> ProbeBackend:
        return self.backends[CASES[name].service]


def _make_backends(certs: Path) -> tuple[dict[str, ProbeBackend], dict[str, t.KeyPair]]:
    backend_ca = t.make_ca(certs, "Backend CA")
    deep_root = t.make_ca(certs, "Deep Root CA")
    intermediate_1 = t.make_intermediate_ca(deep_root, certs, "Deep Intermediate 1")
    intermediate_2 = t.make_intermediate_ca(intermediate_1, certs, "Deep Intermediate 2")
    deep = t.issue(intermediate_2, certs, "deep.default.svc")
    deep_chain = certs / "deep-chain.crt"  # what the backend sends: the leaf and both intermediates
    deep_chain.write_text(deep.cert_pem + intermediate_2.cert_pem + intermediate_1.cert_pem)

    def pair(name: str, dns_names=()) -> t.KeyPair:
        return t.issue(backend_ca, certs, name, dns_names=dns_names)

    secure = pair("secure.default.svc", ["secure.default.svc", "alias.internal"])
    misnamed = pair("elsewhere.internal")
    tls12, tls13, cipher = pair("tls12.default.svc"), pair("tls13.default.svc"), pair("cipher.default.svc")
    contexts = {
        "secure": backend_context(secure.cert, secure.key),
        "misnamed": backend_context(misnamed.cert, misnamed.key),
        "tls12": backend_context(tls12.cert, tls12.key, maximum=ssl.TLSVersion.TLSv1_2),
        "tls13": backend_context(tls13.cert, tls13.key, minimum=ssl.TLSVersion.TLSv1_3),
        # make_ca and issue make P-256 keys: the certificate is ECDSA, as the cipher needs.
        "cipher": backend_context(cipher.cert, cipher.key, maximum=ssl.TLSVersion.TLSv1_2, ciphers=ONLY_CIPHER),
        "deep": backend_context(deep_chain, deep.key),
    }
    return {name: ProbeBackend(context) for name, context in contexts.items()}, \
        {"backend-ca": backend_ca, "deep-root": deep_root}


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory) -> Env:
    workdir = tmp_path_factory.mktemp("backend-tls-options")
    stack = PierStack(module_launcher, workdir)
    backends, cas = _make_backends(workdir / "certs")
    services = [obj for name, backend in backends.items() for obj in m.service_with_backends(name, [backend.port])]
    stack.write_manifest("class.yaml", m.render(
        m.ingress_class(), *services, *(t.ca_secret(name, ca.cert_pem) for name, ca in cas.items())))
    stack.write_manifest("cases.yaml", m.render(BASELINE.ingress(), *(case.ingress() for case in VALID)))
    stack.write_manifest("invalid.yaml", m.render(*(
        Case(name, "secure", {key: value}, NGINX_PREFIX if index % 2 else PIER_PREFIX).ingress()
        for index, (name, (key, value)) in enumerate(INVALID.items()))))
    stack.start()
    ready = Env(stack, backends, cas)
    wait_until(lambda: ready.get(BASELINE.host).status == 200, SNAPSHOT_TIMEOUT_S, "the baseline Ingress served",
               alive=stack.check_alive)
    yield ready
    for backend in backends.values():
        backend.close()


# -- helpers -------------------------------------------------------------------------------------

def assert_baseline(env: Env) -> None:
    seen = env.get(BASELINE.host)
    assert seen.tls()["sni"] == "secure.default.svc", seen.tls()


def assert_handshake_refused(env: Env, name: str, why: str) -> None:
    """The case answers 502 naming a failed handshake (not an untrusted certificate), nothing
    reaches the backend, and the backend refused a handshake because of `why`."""
    backend = env.backend_of(name)
    before = len(backend.failed())
    seen = env.case(name)
    assert seen.status == 502, (name, seen.status, seen.text)
    assert "upstream TLS handshake failed" in seen.text, (name, seen.text)
    assert seen.upstream is None, f"{name}: a refused handshake still reached the backend"
    wait_until(lambda: len(backend.failed()) > before, 5, f"the backend's refused handshake for {name}")
    reasons = [h.error for h in backend.failed()[before:]]
    assert any(why in reason for reason in reasons), (name, reasons)


def assert_served(env: Env, name: str, sni: object = "", version: str = "", cipher: str = "") -> dict:
    """200 from the backend; the SNI ("": don't check), version and cipher it saw."""
    seen = env.case(name)
    tls = seen.tls()
    if sni != "":
        assert tls["sni"] == sni, (name, tls)
    if version:
        assert tls["version"] == version, (name, tls)
    if cipher:
        assert tls["cipher"] == cipher, (name, tls)
    return tls


# -- the tests -----------------------------------------------------------------------------------

def test_the_ingress_without_these_annotations_is_served(env):
    assert_baseline(env)


def test_sni_is_the_services_name_or_proxy_ssl_name(env):
    assert_served(env, "sni-default", sni="secure.default.svc")
    assert_served(env, "sni-on", sni="secure.default.svc")
    assert_served(env, "sni-named", sni="alias.internal")


def test_proxy_ssl_server_name_off_sends_no_sni_and_still_verifies_the_name(env):
    # The backend's sni_callback ran, with None: a ClientHello without server_name.
    assert_served(env, "sni-off", sni=None)
    assert_served(env, "sni-off-named", sni=None)  # the misnamed backend's certificate, proxy-ssl-name matching it
    seen = env.case("sni-off-misnamed")
    assert seen.status == 502, (seen.status, seen.text)
    assert "upstream TLS certificate not trusted for misnamed.default.svc" in seen.text, seen.text
    assert seen.upstream is None


def test_protocols_limit_the_versions_offered(env):
    assert_served(env, "proto-default-12", version=TLS12)
    assert_served(env, "proto-12", version=TLS12)
    assert_served(env, "proto-legacy", version=TLS12)   # TLSv1 and TLSv1.1 skipped, 1.2 kept
    assert_served(env, "proto-13", version=TLS13)
    assert_served(env, "proto-default-13", version=TLS13)
    assert_served(env, "proto-12-to-both", version=TLS12)  # a backend that could speak 1.3 gets 1.2
    assert_handshake_refused(env, "proto-13-to-12", "UNSUPPORTED_PROTOCOL")
    assert_handshake_refused(env, "proto-12-to-13", "UNSUPPORTED_PROTOCOL")


def test_ciphers_limit_the_tls12_ciphers_offered(env):
    assert_served(env, "cipher-default", version=TLS12, cipher=ONLY_CIPHER)
    assert_served(env, "cipher-match", version=TLS12, cipher=ONLY_CIPHER)
    assert_served(env, "cipher-list", version=TLS12, cipher=ONLY_CIPHER)
    assert_handshake_refused(env, "cipher-other", "NO_SHARED_CIPHER")
    # TLS 1.3's suites are not affected: a backend speaking 1.3 is served with one of them.
    tls = assert_served(env, "cipher-other-13", version=TLS13)
    assert tls["cipher"].startswith("TLS_"), tls


def test_verify_depth_counts_the_intermediates(env):
    for name in ("depth-default", "depth-0", "depth-1"):
        seen = env.case(name)
        assert seen.status == 502, (name, seen.status, seen.text)
        assert "upstream TLS certificate not trusted for deep.default.svc: certificate chain too long" in seen.text, \
            (name, seen.text)
        assert seen.upstream is None
    assert_served(env, "depth-2", sni="deep.default.svc")
    assert_served(env, "depth-3", sni="deep.default.svc")
    assert_served(env, "depth-1-unverified")  # without verification the depth does not matter
    # 0: no intermediate at all, the trusted CA signed the leaf.
    assert_served(env, "depth-0-direct", sni="secure.default.svc")


def test_invalid_values_close_the_ingress_with_503_and_a_warning(env):
    for index, (name, (key, value)) in enumerate(INVALID.items()):
        written = (NGINX_PREFIX if index % 2 else PIER_PREFIX) + "proxy-ssl-" + key
        seen = env.get(f"{name}.test")
        assert seen.status == 503, (name, seen.status, seen.text)
        assert f"invalid annotation {written}" in seen.text, (name, seen.text)
        assert seen.upstream is None, name

        def reported() -> bool:
            return any(line.startswith("InvalidAnnotation:") and f'{written}="{value}"' in line
                       for line in t.controller_warnings(env.stack, name))

        wait_until(reported, WARNING_TIMEOUT_S, f"the controller's InvalidAnnotation warning about {name}")
    assert_baseline(env)
    assert t.controller_warnings(env.stack, BASELINE.name) == []
    for case in VALID:
        assert t.controller_warnings(env.stack, case.name) == [], case.name


# -- real nginx ----------------------------------------------------------------------------------

_NGINX_UPSTREAM = "upstream backend_{case} {{ server 127.0.0.1:{port}; }}\n"


def nginx_location(case: Case, ca: Path) -> str:
    """A location for `case` as ingress-nginx writes one for its annotations, with Pier's
    defaults spelt out where nginx's differ: proxy_ssl_server_name on (nginx: off) and
    proxy_ssl_protocols TLSv1.2 TLSv1.3 (nginx 1.22: TLSv1 TLSv1.1 TLSv1.2)."""
    keys = case.keys
    lines = [f"proxy_pass https://backend_{case.name.replace('-', '_')};",
             f"proxy_ssl_trusted_certificate {ca};",
             f"proxy_ssl_verify {keys.get('verify', 'on')};",
             f"proxy_ssl_verify_depth {keys.get('verify-depth', '1')};",
             f"proxy_ssl_name {keys.get('name', case.service + '.default.svc')};",
             f"proxy_ssl_server_name {keys.get('server-name', 'on')};",
             f"proxy_ssl_protocols {keys.get('protocols', 'TLSv1.2 TLSv1.3')};"]
    if "ciphers" in keys:
        lines.append(f"proxy_ssl_ciphers {keys['ciphers']};")
    body = "".join(f"    {line}\n" for line in lines)
    return f"location /{case.name}/ {{\n{body}}}\n"


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_answers_as_nginx(env, tmp_path):
    """Every valid case through nginx and through Pier: the same status and, for a 200, the same
    SNI, version and cipher at the backend. Each location has an upstream block of its own: nginx
    keeps one TLS session per upstream peer and resumes it (no certificate check on resumption),
    so locations sharing one would not each verify the chain."""
    server = "".join(nginx_location(case, env.cas[SERVICES[case.service][0]].cert) for case in VALID)
    upstreams = "".join(_NGINX_UPSTREAM.format(case=case.name.replace("-", "_"), port=env.backends[case.service].port)
                        for case in VALID)
    nginx, port = start_nginx(env.stack.launcher, tmp_path, server, http=upstreams)
    try:
        theirs = {case.name: env.get(case.host, f"/{case.name}/x", port=port).outcome() for case in VALID}
    finally:
        nginx.stop()
    ours = {case.name: env.get(case.host, f"/{case.name}/x").outcome() for case in VALID}
    differences = {name: {"nginx": theirs[name], "pier": ours[name]} for name in theirs if theirs[name] != ours[name]}
    assert not differences, json.dumps(differences, indent=1)
    # The comparison means something: what nginx did with the cases this module is about.
    assert theirs["sni-off"][1] is None and theirs["sni-default"][1] == "secure.default.svc", theirs
    assert theirs["sni-off-misnamed"] == (502,), theirs
    assert theirs["depth-1"] == (502,) and theirs["depth-default"] == (502,), theirs
    assert theirs["depth-2"][0] == 200 and theirs["depth-3"][0] == 200, theirs
    assert theirs["depth-0"] == (502,) and theirs["depth-0-direct"][0] == 200, theirs
    assert theirs["proto-13-to-12"] == (502,) and theirs["proto-12-to-13"] == (502,), theirs
    assert theirs["cipher-other"] == (502,) and theirs["cipher-match"][3] == ONLY_CIPHER, theirs


def test_nothing_crashed(env):
    env.stack.check_alive()
    assert_baseline(env)
