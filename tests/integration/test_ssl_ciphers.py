"""The ssl-ciphers annotation (pier.dev/ or nginx.ingress.kubernetes.io/): the OpenSSL cipher
list a TLS 1.2 handshake on the dataplane's HTTPS listener may agree on when its SNI names a host
of the Ingress, as nginx's `ssl_ciphers` in that host's server block.

- A TLS 1.2 client offering a listed cipher gets it; one offering only ciphers outside the list
  (also ones of the default list) is refused with a handshake_failure alert. The list may also
  allow a cipher the default lacks (ECDHE-ECDSA-AES128-SHA). TLS 1.3 suites are not affected.
- SNI decides, case-insensitively; a wildcard host covers one label. A handshake without SNI, or
  with another host's name, has that host's list or the default (Mozilla intermediate).
- A request for a host with its own list on a connection whose handshake was made for another
  host (or without SNI) is 421, even when the certificate covers both names (nginx serves it).
- A TLS 1.2 session made on another host with a cipher outside the list is not resumed on the
  annotated host (nginx 1.22 / OpenSSL 3.0 does resume it: its ticket is decrypted before the
  SNI callback switches the server block, and OpenSSL only checks that the client still offers
  the session's cipher).
- An invalid list (NOT-A-CIPHER, or one that selects no cipher) closes the Ingress' routes with
  503 and an InvalidAnnotation warning; the handshake keeps the default list.
- Two Ingresses for a host with different lists: the oldest (creationTimestamp, then
  namespace/name) decides for the whole host, the other gets a ConflictingSslCiphers warning.
- ssl-prefer-server-ciphers "true" (with a list, or alone with Pier's list): the server's order
  picks among the ciphers both sides offer; without it, the client's does.
- Every fresh-handshake case is also run against real nginx with the same certificate, one TLS
  server block per host with the list ingress-nginx would write (the winner's for the conflicts)
  and a default server with Pier's default list: the same outcome (version and cipher, or the
  alert) for every SNI and offer.

Everything runs on 127.0.0.1: the chat backend, the controller in manifests mode, the dataplane
with an HTTPS listener; Python's ssl and openssl s_client as clients. The certificates (EC P-256,
so the ECDHE-ECDSA-* ciphers) are made with the openssl CLI in the module's tmp dir.
"""

from __future__ import annotations

import re
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

import manifests as m
import tlsutil as t
from harness import PierStack, free_port, wait_until
from nginxutil import NGINX, start_nginx
from rawhttp import format_request, request

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"
KEY = "ssl-ciphers"

TLS12, TLS13 = "TLSv1.2", "TLSv1.3"
AES256 = "ECDHE-ECDSA-AES256-GCM-SHA384"    # in the default list
AES128 = "ECDHE-ECDSA-AES128-GCM-SHA256"    # in the default list
CHACHA = "ECDHE-ECDSA-CHACHA20-POLY1305"    # in the default list
CBC = "ECDHE-ECDSA-AES128-SHA"              # not in the default list
HANDSHAKE_FAILURE = "SSLV3_ALERT_HANDSHAKE_FAILURE"
DEFAULT_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                   "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")

CIPHERS = "ciphers.test"     # pier.dev/ssl-ciphers: AES256 only
ALIAS = "alias.test"         # nginx.ingress.kubernetes.io/ssl-ciphers: CBC and AES256
WILD = "*.wild.test"         # pier.dev/ssl-ciphers: ECDHE+CHACHA20 (an OpenSSL expression)
PLAIN = "plain.test"         # no annotation
CONFLICT = "conflict.test"   # conflict-old (2023): AES256; conflict-new (2024, /healthz): CHACHA
TIE = "tie.test"             # tie-a and tie-b, the same creationTimestamp: tie-a (CHACHA) wins over tie-b (AES256)
INVALID = "invalid.test"     # pier.dev/ssl-ciphers: NOT-A-CIPHER
NO_CIPHER = "nocipher.test"  # nginx.ingress.kubernetes.io/ssl-ciphers: a list that selects nothing
PREFER = "prefer.test"       # ssl-ciphers AES128:AES256 and ssl-prefer-server-ciphers "true"
ORDER = "order.test"         # ssl-ciphers AES128:AES256 alone: the client's order decides
PREFER_ONLY = "preferonly.test"  # nginx.ingress.kubernetes.io/ssl-prefer-server-ciphers alone: Pier's list, its order
HOSTS = (CIPHERS, ALIAS, WILD, PLAIN, CONFLICT, TIE, INVALID, NO_CIPHER, PREFER, ORDER, PREFER_ONLY)

LISTS = {CIPHERS: AES256, ALIAS: f"{CBC}:{AES256}", WILD: "ECDHE+CHACHA20", PREFER: f"{AES128}:{AES256}",
         ORDER: f"{AES128}:{AES256}"}
INVALID_VALUES = {"invalid": (PIER_PREFIX, "NOT-A-CIPHER"), "nocipher": (NGINX_PREFIX, f"{AES256}:!AESGCM")}
# What a host's handshakes get, as nginx (and ingress-nginx for the conflicts) would configure it.
EFFECTIVE = {CIPHERS: LISTS[CIPHERS], ALIAS: LISTS[ALIAS], WILD: LISTS[WILD], CONFLICT: AES256, TIE: CHACHA,
             PREFER: LISTS[PREFER], ORDER: LISTS[ORDER], PREFER_ONLY: DEFAULT_CIPHERS}
# The hosts whose server order decides (ssl_prefer_server_ciphers on).
SERVER_ORDER = (PREFER, PREFER_ONLY)

SNAPSHOT_TIMEOUT_S = 10
WARNING_TIMEOUT_S = 10


# -- clients ---------------------------------------------------------------------------------------

def tls12_offering(ciphers: str) -> ssl.SSLContext:
    """A TLS 1.2 client (no 1.3) offering exactly `ciphers`; it trusts anything."""
    context = t.client_context(None)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    return context


def tls13_client() -> ssl.SSLContext:
    context = t.client_context(None)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


# The offers every handshake case makes: (name, context maker).
OFFERS = {"aes256": lambda: tls12_offering(AES256), "chacha": lambda: tls12_offering(CHACHA),
          "cbc": lambda: tls12_offering(CBC), "tls1.3": tls13_client,
          # Two ciphers, the client's favourite first: whose order decides shows.
          "aes256-first": lambda: tls12_offering(f"{AES256}:{AES128}"),
          "chacha-first": lambda: tls12_offering(f"{CHACHA}:{AES128}")}


@dataclass
class Handshake:
    version: Optional[str]      # None: the handshake failed
    cipher: Optional[str]
    alert: Optional[str] = None  # why it failed, as Python's ssl names it
    reused: bool = False
    status: Optional[int] = None  # of the GET sent on the connection, if any

    def outcome(self) -> tuple:
        return self.version, self.cipher, self.alert


def served(cipher: str, version: str = TLS12) -> tuple:
    return version, cipher, None


REFUSED = (None, None, HANDSHAKE_FAILURE)


def handshake(port: int, sni: Optional[str], context: ssl.SSLContext, session: Optional[ssl.SSLSession] = None,
              get: Optional[str] = None) -> tuple[Handshake, Optional[ssl.SSLSession]]:
    """A TLS handshake to `port` with SNI `sni` (None: none), then, when `get` names a host, a GET
    /healthz for it on the connection. Returns what happened and the connection's session."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        tls = context.wrap_socket(raw, server_hostname=sni, session=session)
    except ssl.SSLError as error:
        raw.close()
        return Handshake(None, None, error.reason), None
    with tls:
        result = Handshake(tls.version(), tls.cipher()[0], reused=tls.session_reused)
        if get is not None:
            tls.sendall(format_request("GET", "/healthz", headers={"Connection": "close"}, host=get))
            with tls.makefile("rb") as reader:
                result.status = int(reader.readline().split()[1])
        return result, tls.session


def outcome(port: int, sni: Optional[str], offer: str) -> tuple:
    return handshake(port, sni, OFFERS[offer]())[0].outcome()


def tls13_suite(port: int, sni: str, suite: str) -> tuple[str, str]:
    """(version, cipher) s_client negotiated offering only the TLS 1.3 suite `suite`."""
    hello = t.s_client(port, sni, ["-tls1_3", "-ciphersuites", suite])
    match = re.search(r"New, (TLSv[\d.]+), Cipher is (\S+)", hello.stdout)
    assert hello.returncode == 0 and match, (sni, suite, hello.stdout, hello.stderr)
    return match.group(1), match.group(2)


# -- the stack -------------------------------------------------------------------------------------

@dataclass
class Env:
    stack: PierStack
    server: t.KeyPair           # one certificate for every host
    backend: str                # the chat backend's name (its X-Backend)

    @property
    def port(self) -> int:
        return self.stack.https_port


def tls_ingress(name: str, host: str, annotations: Optional[dict] = None, paths=(("/", "chat"),),
                created: str = "2024-01-01T00:00:00Z") -> dict:
    ingress = m.ingress(name, list(paths), annotations, host=host, creation_timestamp=created)
    ingress["spec"]["tls"] = [{"hosts": [host], "secretName": "server-cert"}]
    return ingress


def ciphers(value: str, prefix: str = PIER_PREFIX) -> dict:
    return {prefix + KEY: value}


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory) -> Env:
    workdir = tmp_path_factory.mktemp("ssl-ciphers")
    certs = workdir / "certs"
    stack = PierStack(module_launcher, workdir)
    stack.https_port = free_port()
    ca = t.make_ca(certs)
    server = t.issue(ca, certs, CIPHERS, dns_names=HOSTS)
    backend = stack.start_backend("chat-ciphers")
    stack.write_manifest("ciphers.yaml", m.render(
        m.ingress_class(),
        *m.service_with_backends("chat", [backend.port]),
        t.tls_secret("server-cert", server.cert_pem, server.key_pem),
        tls_ingress("ciphers", CIPHERS, ciphers(LISTS[CIPHERS])),
        tls_ingress("alias", ALIAS, ciphers(LISTS[ALIAS], NGINX_PREFIX)),
        tls_ingress("wild", WILD, ciphers(LISTS[WILD])),
        tls_ingress("plain", PLAIN),
        # The newer one first in the file, and the loser of the name tie first too: the order of
        # the documents must not decide.
        tls_ingress("conflict-new", CONFLICT, ciphers(CHACHA), paths=(("/healthz", "chat", "Exact"),)),
        tls_ingress("conflict-old", CONFLICT, ciphers(AES256), created="2023-01-01T00:00:00Z"),
        tls_ingress("tie-b", TIE, ciphers(AES256)),
        tls_ingress("tie-a", TIE, ciphers(CHACHA), paths=(("/tie-a/", "chat"),)),
        *[tls_ingress(name, f"{name}.test", ciphers(value, prefix))
          for name, (prefix, value) in INVALID_VALUES.items()],
        tls_ingress("prefer", PREFER, {**ciphers(LISTS[PREFER]), PIER_PREFIX + "ssl-prefer-server-ciphers": "true"}),
        tls_ingress("order", ORDER, ciphers(LISTS[ORDER])),
        tls_ingress("preferonly", PREFER_ONLY, {NGINX_PREFIX + "ssl-prefer-server-ciphers": "true"}),
    ))
    stack.start()
    ready = Env(stack, server, backend.name)
    # The first snapshot holds everything: once one host answers over HTTPS, all are loaded.
    wait_until(lambda: t.https_get(ready.port, PLAIN, "/healthz", None).status == 200, SNAPSHOT_TIMEOUT_S,
               "plain.test over HTTPS", alive=stack.check_alive)
    return ready


def no_shared_cipher_count(stack: PierStack) -> float:
    text = request(stack.admin_port, "GET", "/metrics").text
    found = re.search(r'^pier_tls_handshakes_total\{result="no_shared_cipher"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def warnings_of(stack: PierStack, ingress: str, kind: str) -> list[str]:
    return [w for w in t.controller_warnings(stack, ingress) if w.startswith(kind + ":")]


# -- the list of the SNI's host --------------------------------------------------------------------

def test_a_tls12_client_offering_a_listed_cipher_gets_it(env):
    for sni, cipher in ((CIPHERS, AES256), (ALIAS, AES256), (ALIAS, CBC), ("a.wild.test", CHACHA)):
        shook, _ = handshake(env.port, sni, tls12_offering(cipher), get=sni)
        assert shook.outcome() == served(cipher), (sni, cipher, shook)
        assert shook.status == 200, (sni, cipher, shook)
    # Offering everything Python offers by default: the one cipher of the list is chosen.
    context = t.client_context(None)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    assert handshake(env.port, CIPHERS, context)[0].outcome() == served(AES256)


def test_a_tls12_client_offering_only_unlisted_ciphers_is_refused(env):
    before = no_shared_cipher_count(env.stack)
    cases = [(CIPHERS, CHACHA), (CIPHERS, AES128), (CIPHERS, CBC), ("CIPHERS.TEST", CHACHA), (ALIAS, CHACHA),
             (ALIAS, AES128), ("a.wild.test", AES256), ("A.Wild.Test", AES128)]
    for sni, cipher in cases:
        assert handshake(env.port, sni, tls12_offering(cipher))[0].outcome() == REFUSED, (sni, cipher)
    # Counted as what they are.
    wait_until(lambda: no_shared_cipher_count(env.stack) - before == len(cases), 5,
               f"pier_tls_handshakes_total{{result=\"no_shared_cipher\"}} to grow by {len(cases)}")
    env.stack.check_alive()


def test_tls13_suites_are_not_affected(env):
    for sni in (CIPHERS, ALIAS, "a.wild.test", PLAIN):
        for suite in TLS13_SUITES:
            assert tls13_suite(env.port, sni, suite) == (TLS13, suite), (sni, suite)
        shook, _ = handshake(env.port, sni, tls13_client(), get=sni)
        assert shook.version == TLS13 and shook.status == 200, (sni, shook)


def test_other_hosts_and_no_sni_keep_their_own_list(env):
    # The default list everywhere else: CHACHA and AES128 (refused on ciphers.test) are served,
    # CBC (allowed on alias.test) is refused; the wildcard covers exactly one label.
    for sni in (PLAIN, "unknown.test", None, "wild.test", "a.b.wild.test", "ciphers.test.other"):
        for cipher in (AES256, AES128, CHACHA):
            assert handshake(env.port, sni, tls12_offering(cipher))[0].outcome() == served(cipher), (sni, cipher)
        assert handshake(env.port, sni, tls12_offering(CBC))[0].outcome() == REFUSED, sni
    shook, _ = handshake(env.port, PLAIN, tls12_offering(CHACHA), get=PLAIN)
    assert shook.status == 200, shook


class _SessionServer(t.TlsTestServer):
    """A Python TLS server that resumes any session offered to it (one SSL_CTX, no session ID
    context): whether it resumed says whether the client offered the session."""

    def __init__(self, pair: t.KeyPair):
        self.reused: list[bool] = []
        super().__init__(t.server_context(pair), timeout=5)

    def handle(self, sock: ssl.SSLSocket, number: int) -> None:
        sock.recv(16)
        with self._lock:
            self.reused.append(sock.session_reused)
        sock.sendall(b"ok")


def _offers_sessions_across_names(context: ssl.SSLContext, pair: t.KeyPair) -> bool:
    server = _SessionServer(pair)
    try:
        session = None
        for name in (PLAIN, CIPHERS):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname=name, session=session) as tls:
                    tls.sendall(b"hi")
                    tls.recv(16)
                    session = tls.session
        wait_until(lambda: len(server.reused) == 2, 5, "both connections served")
        return server.reused == [False, True]
    finally:
        server.close()


def test_a_request_for_a_host_with_its_own_list_needs_a_handshake_made_under_it(env):
    # The certificate covers every host, so only the list can tell the connections apart: a
    # connection made for plain.test (CHACHA, which ciphers.test refuses) or for alias.test (another
    # list) must not carry ciphers.test's requests. nginx serves them (200): its ssl_ciphers only
    # governs the handshake.
    for sni, context in ((PLAIN, tls12_offering(CHACHA)), (ALIAS, tls12_offering(AES256)), (PLAIN, tls13_client()),
                         (None, tls12_offering(AES256))):
        shook, _ = handshake(env.port, sni, context, get=CIPHERS)
        assert shook.version is not None and shook.status == 421, (sni, shook)
    # The other way round is fine: plain.test has no list of its own, and ciphers.test's own
    # handshake serves its own requests.
    assert handshake(env.port, CIPHERS, tls12_offering(AES256), get=PLAIN)[0].status == 200
    assert handshake(env.port, CIPHERS, tls12_offering(AES256), get=CIPHERS)[0].status == 200
    body = t.https_get(env.port, CIPHERS, "/healthz", None, sni=PLAIN)
    assert body.status == 421 and "connect anew with SNI ciphers.test" in body.text, body


def test_a_session_of_another_host_is_not_resumed_with_an_unlisted_cipher(env):
    context = tls12_offering(CHACHA)
    assert _offers_sessions_across_names(context, env.server), \
        "the client does not offer a session to another name: the check below would prove nothing"
    first, session = handshake(env.port, PLAIN, context)
    assert first.outcome() == served(CHACHA)
    # Control: the session is resumed on its own host.
    again, _ = handshake(env.port, PLAIN, context, session=session)
    assert again.reused and again.outcome() == served(CHACHA), again
    # Offered to ciphers.test, whose list lacks CHACHA: not resumed, and a full handshake fails.
    crossed, _ = handshake(env.port, CIPHERS, context, session=session, get=CIPHERS)
    assert crossed.outcome() == REFUSED, f"a CHACHA session of plain.test was accepted on ciphers.test: {crossed}"


# -- configuration problems ------------------------------------------------------------------------

def test_an_invalid_list_closes_the_ingress_with_503_and_a_warning(env):
    for name, (prefix, value) in INVALID_VALUES.items():
        host = f"{name}.test"
        # The handshake has the default list.
        for cipher in (AES256, CHACHA):
            shook, _ = handshake(env.port, host, tls12_offering(cipher), get=host)
            assert shook.outcome() == served(cipher), (host, cipher, shook)
            assert shook.status == 503, (host, cipher, shook)
        assert handshake(env.port, host, tls12_offering(CBC))[0].outcome() == REFUSED, host
        response = t.https_get(env.port, host, "/healthz", None)
        assert response.status == 503 and prefix + KEY in response.text, (host, response.status, response.text)
        assert response.header("X-Backend") is None, host

        def reported() -> bool:
            return any(f'{prefix}{KEY}="{value}"' in line for line in warnings_of(env.stack, name, "InvalidAnnotation"))

        wait_until(reported, WARNING_TIMEOUT_S, f"the controller's InvalidAnnotation warning about {name}",
                   alive=env.stack.check_alive)
    for name in ("ciphers", "alias", "wild", "plain"):
        assert t.controller_warnings(env.stack, name) == [], (name, t.controller_warnings(env.stack, name))


def test_the_oldest_ingress_decides_the_list_of_a_host(env):
    # conflict-old (2023) over conflict-new (2024): AES256, not CHACHA, for every route of the
    # host, also conflict-new's /healthz.
    shook, _ = handshake(env.port, CONFLICT, tls12_offering(AES256), get=CONFLICT)
    assert shook.outcome() == served(AES256) and shook.status == 200, shook
    assert handshake(env.port, CONFLICT, tls12_offering(CHACHA))[0].outcome() == REFUSED
    # The same creationTimestamp: default/tie-a before default/tie-b.
    shook, _ = handshake(env.port, TIE, tls12_offering(CHACHA), get=TIE)
    assert shook.outcome() == served(CHACHA) and shook.status == 200, shook
    assert handshake(env.port, TIE, tls12_offering(AES256))[0].outcome() == REFUSED

    for loser in ("conflict-new", "tie-b"):
        wait_until(lambda: warnings_of(env.stack, loser, "ConflictingSslCiphers"), WARNING_TIMEOUT_S,
                   f"the controller's ConflictingSslCiphers warning about {loser}", alive=env.stack.check_alive)
    for winner in ("conflict-old", "tie-a"):
        assert t.controller_warnings(env.stack, winner) == [], (winner, t.controller_warnings(env.stack, winner))
    # The loser's routes are still served (over the winner's ciphers).
    response = t.https_get(env.port, CONFLICT, "/healthz", None)
    assert response.status == 200 and response.header("X-Backend") == env.backend, (response.status, response.text)


# -- real nginx ------------------------------------------------------------------------------------

def nginx_tls_servers(tls_port: int, server: t.KeyPair) -> str:
    """A TLS server block per annotated host with its effective list, as ingress-nginx writes
    ssl_ciphers into a host's server, and a default server with Pier's default list."""
    def block(names: str, cipher_list: str, default: bool = False) -> str:
        prefer = "on" if names in SERVER_ORDER else "off"
        return (f"server {{\n    listen 127.0.0.1:{tls_port} ssl{' default_server' if default else ''};\n"
                f"    server_name {names};\n    ssl_certificate {server.cert};\n"
                f"    ssl_certificate_key {server.key};\n    ssl_protocols TLSv1.2 TLSv1.3;\n"
                f"    ssl_ciphers \"{cipher_list}\";\n    ssl_prefer_server_ciphers {prefer};\n"
                f"    location / {{ return 200 \"ok\\n\"; }}\n}}\n")

    return block("_", DEFAULT_CIPHERS, default=True) + "".join(block(host, value) for host, value in EFFECTIVE.items())


# Not a.b.wild.test: nginx's server_name *.wild.test covers it too, while an Ingress host
# *.wild.test (Kubernetes' rule, which Pier follows) covers exactly one label.
PROBE_NAMES = (CIPHERS, "CIPHERS.TEST", ALIAS, "a.wild.test", CONFLICT, TIE, PLAIN, "unknown.test", None, PREFER, ORDER,
               PREFER_ONLY)


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_handshakes_as_nginx(env, tmp_path: Path):
    """Every SNI (none included) with every offer, fresh handshakes: the same version and cipher,
    or the same alert, from nginx and from Pier."""
    tls_port = free_port()
    nginx, _ = start_nginx(env.stack.launcher, tmp_path, "location / { return 200 \"up\\n\"; }",
                           http=nginx_tls_servers(tls_port, env.server))
    try:
        theirs = {(sni, offer): outcome(tls_port, sni, offer) for sni in PROBE_NAMES for offer in OFFERS}
    finally:
        nginx.stop()
    ours = {(sni, offer): outcome(env.port, sni, offer) for sni in PROBE_NAMES for offer in OFFERS}
    differences = [f"SNI {sni}, {offer}:\n  nginx {theirs[sni, offer]}\n  pier  {ours[sni, offer]}"
                   for sni, offer in theirs if theirs[sni, offer] != ours[sni, offer]]
    assert not differences, "\n".join(differences)
    # The comparison means something: what nginx did with the cases this module is about.
    assert theirs[CIPHERS, "aes256"] == served(AES256) and theirs[CIPHERS, "chacha"] == REFUSED, theirs
    assert theirs[ALIAS, "cbc"] == served(CBC) and theirs[PLAIN, "cbc"] == REFUSED, theirs
    assert theirs[CIPHERS, "tls1.3"][0] == TLS13 and theirs[None, "chacha"] == served(CHACHA), theirs
    assert theirs[PREFER, "aes256-first"] == served(AES128) and theirs[ORDER, "aes256-first"] == served(AES256), theirs


def test_prefer_server_ciphers_lets_the_servers_order_decide(env):
    # The client would rather have AES256 (or CHACHA); with the server's order it gets the list's
    # first cipher (on preferonly.test, the first of Pier's own list), without it its favourite.
    expected = {(PREFER, "aes256-first"): AES128, (ORDER, "aes256-first"): AES256,
                (PREFER_ONLY, "chacha-first"): AES128, (PLAIN, "chacha-first"): CHACHA,
                (PREFER_ONLY, "aes256-first"): AES128, (PLAIN, "aes256-first"): AES256}
    for (sni, offer), cipher in expected.items():
        assert outcome(env.port, sni, offer) == served(cipher), (sni, offer)
    # Offering only a cipher the list has still works; the order only picks among shared ones.
    assert outcome(env.port, PREFER, "aes256") == served(AES256)


def test_nothing_crashed(env):
    env.stack.check_alive()
    assert t.https_get(env.port, CIPHERS, "/healthz", None).status == 200
