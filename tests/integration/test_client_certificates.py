"""Client certificates (ingress-nginx's auth-tls-* annotations) on the dataplane's HTTPS listener.

A host whose Ingress names auth-tls-secret (a Secret of any type with the CA certificates in
ca.crt) asks for a client certificate in the TLS handshake and checks it against those CAs, for
every route of the host, also those of other Ingresses for it:

- auth-tls-verify-client on (the default): no certificate is 400 "No required SSL certificate
  was sent", one that fails verification 400 "The SSL certificate error"; optional lets "no
  certificate" through (ssl-client-verify: NONE); optional_no_ca lets anything through and
  tells the upstream FAILED:<reason>; off asks for nothing.
- The upstream gets ssl-client-verify, ssl-client-subject-dn and ssl-client-issuer-dn (RFC 2253,
  as nginx's $ssl_client_s_dn / $ssl_client_i_dn), and ssl-client-cert ($ssl_client_escaped_cert)
  with auth-tls-pass-certificate-to-upstream; a client's own copies of those never pass.
- auth-tls-error-page turns the 400 into a 302 to that URL; auth-tls-verify-depth counts the
  intermediate CAs as nginx's ssl_verify_depth does.
- A connection whose handshake (SNI) was for a host without this policy is 421 for a host with
  it, and a TLS session is not resumed across policies.
- Plain HTTP to such a host is 400 (or the redirect to HTTPS); an unusable Secret closes the
  host with 503 and a controller warning; auth-tls-match-cn refuses other subjects with 403.
- The last-but-one test runs the same cases against real nginx and compares.

Everything runs on 127.0.0.1: a recording upstream in the test process (recorder.Recorder), the
controller in manifests mode, the dataplane with an HTTPS listener, Python's ssl and curl as
clients. Certificates are made with the openssl CLI in the module's tmp dir.
"""

from __future__ import annotations

import itertools
import re
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

import manifests as m
import tlsutil as t
from harness import PierStack, free_port, wait_until
from nginxutil import NGINX, client_certificate_server, start_nginx
from rawhttp import request
from recorder import RecordedRequest, Recorder
from tlsutil import (CERT, CERTIFICATE_ERROR, CLIENT_FIELDS, ISSUER, NO_CERTIFICATE, SUBJECT, VERIFY, Seen,
                     assert_refused, controller_warnings)

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"

ON = "on.test"                  # verify on (the default), nginx.ingress.kubernetes.io/ keys, pass certificate;
#                                 Ingress on-extra adds /extra/ to the host without any auth-tls key
NO_PASS = "nopass.test"         # verify "on" written out, no pass-certificate-to-upstream
OPTIONAL = "optional.test"      # optional, pass certificate
NO_CA = "noca.test"             # optional_no_ca, pass certificate
OFF = "off.test"                # off
ERROR_PAGE = "errorpage.test"   # verify on, auth-tls-error-page
OTHER_CA = "otherca.test"       # verify on against another CA (a kubernetes.io/tls Secret with ca.crt)
BUNDLE = "bundle.test"          # verify on against both CAs (two certificates in ca.crt)
DEEP = "deep.test"              # verify on, auth-tls-verify-depth 2
PLAIN_HTTP = "plainhttp.test"   # verify on, ssl-redirect "false"
NO_AUTH = "noauth.test"         # TLS without client certificates
MATCH_CN = "matchcn.test"       # auth-tls-match-cn
MISSING = "missing.test"        # auth-tls-secret names no Secret; Ingress missing-extra adds /extra/
NO_KEY = "nokey.test"           # the Secret has no ca.crt
NOT_PEM = "notpem.test"         # ca.crt is not PEM certificates
EXT_AUTH = "extauth.test"       # optional, and auth-url: the auth service sees the ssl-client-* fields too
HOSTS = (ON, NO_PASS, OPTIONAL, NO_CA, OFF, ERROR_PAGE, OTHER_CA, BUNDLE, DEEP, PLAIN_HTTP, NO_AUTH, MATCH_CN,
         MISSING, NO_KEY, NOT_PEM, EXT_AUTH)

ERROR_PAGE_URL = "https://errors.example/cert"
CLIENT_CA_NAME = "Pier Client CA"
OTHER_CA_NAME = "Other Client CA"
INTERMEDIATE_NAME = "Pier Intermediate CA"
DEEPER_NAME = "Pier Deeper CA"

WARNING_TIMEOUT_S = 10


@dataclass
class Clients:
    """The client certificates the tests present (cert files hold the leaf, then its chain)."""
    alice: t.KeyPair      # /O=Pier Test/CN=alice, issued by the client CA
    mallory: t.KeyPair    # issued by the other CA
    impostor: t.KeyPair   # self-signed, alice's subject
    bob: t.KeyPair        # issued by an intermediate of the client CA (chain: leaf, intermediate)
    deep: t.KeyPair       # two intermediates below the client CA (chain: leaf, both)
    carol: t.KeyPair      # issued by the client CA, a subject with characters RFC 2253 escapes


ALICE_DN = "CN=alice,O=Pier Test"
MALLORY_DN = "CN=mallory,O=Elsewhere"
BOB_DN = "CN=bob,OU=Team,O=Pier Test"


@dataclass
class MtlsStack:
    stack: PierStack
    recorder: Recorder
    auth_service: Recorder
    server_ca: t.KeyPair
    server: t.KeyPair
    client_ca: t.KeyPair
    clients: Clients
    certs: Path
    _ids: itertools.count = field(default_factory=itertools.count)

    @property
    def https_port(self) -> int:
        return self.stack.https_port

    def next_id(self) -> str:
        return f"mtls-{next(self._ids)}"

    def upstream_of(self, test_id: str) -> Optional[RecordedRequest]:
        return t.recorded(self.recorder, test_id)

    def get(self, host: str, path: str = "/", client: Optional[t.KeyPair] = None, sni: Optional[str] = "",
            headers: Optional[dict] = None, port: Optional[int] = None) -> Seen:
        """GET over TLS (SNI = host unless `sni` says otherwise), presenting `client` if asked."""
        test_id = self.next_id()
        response = t.https_get(port or self.https_port, host, path, self.server_ca, sni=sni,
                               headers={**(headers or {}), "X-Test-Id": test_id}, client=client)
        return Seen(response, self.upstream_of(test_id))

    def plain_get(self, host: str, path: str = "/") -> Seen:
        test_id = self.next_id()
        response = request(self.stack.http_port, "GET", path, headers={"Host": host, "X-Test-Id": test_id})
        return Seen(response, self.upstream_of(test_id))


def auth(prefix: str = PIER_PREFIX, secret: str = "default/client-ca", **keys: str) -> dict:
    """auth-tls-secret plus auth-tls-<key> (underscores as dashes) under `prefix`."""
    annotations = {prefix + "auth-tls-secret": secret}
    for key, value in keys.items():
        annotations[prefix + "auth-tls-" + key.replace("_", "-")] = value
    return annotations


@pytest.fixture(scope="module")
def mtls(module_launcher, tmp_path_factory) -> MtlsStack:
    workdir = tmp_path_factory.mktemp("client-certs")
    certs = workdir / "certs"
    stack = PierStack(module_launcher, workdir)
    stack.https_port = free_port()

    server_ca = t.make_ca(certs, "Pier Server CA")
    server = t.issue(server_ca, certs, ON, dns_names=HOSTS)  # one certificate for every host
    client_ca = t.make_ca(certs, CLIENT_CA_NAME)
    other_ca = t.make_ca(certs, OTHER_CA_NAME)
    intermediate = t.make_intermediate_ca(client_ca, certs, INTERMEDIATE_NAME)
    deeper = t.make_intermediate_ca(intermediate, certs, DEEPER_NAME)
    clients = Clients(
        alice=t.issue_client(client_ca, certs, "alice", "/O=Pier Test/CN=alice"),
        mallory=t.issue_client(other_ca, certs, "mallory", "/O=Elsewhere/CN=mallory"),
        impostor=t.self_signed_client(certs, "impostor", "/O=Pier Test/CN=alice"),
        bob=t.issue_client(intermediate, certs, "bob", "/O=Pier Test/OU=Team/CN=bob", chain=[intermediate]),
        deep=t.issue_client(deeper, certs, "deep", "/O=Pier Test/CN=deep", chain=[deeper, intermediate]),
        carol=t.issue_client(client_ca, certs, "carol", "/C=DE/O=Pier, Test; Ltd/OU=#ops/CN=carol <c@x>"),
    )
    recorder = Recorder()
    auth_service = Recorder()  # answers 200: every request it is asked about may go on

    def tls(name: str, host: str, annotations: Optional[dict] = None, paths=("/",), with_tls: bool = True) -> dict:
        return t.tls_ingress(name, host, "upstream", "server-cert" if with_tls else None, annotations, paths)

    bundle = other_ca.cert_pem + client_ca.cert_pem
    other_ca_secret = t.tls_secret("other-ca", server.cert_pem, server.key_pem)  # a TLS Secret that also has ca.crt
    other_ca_secret["data"]["ca.crt"] = t.b64(other_ca.cert_pem)
    no_key_secret = t.ca_secret("nokey-ca", client_ca.cert_pem)
    no_key_secret["data"] = {"ca.pem": no_key_secret["data"]["ca.crt"]}

    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("mtls.yaml", m.render(
        *m.service_with_backends("upstream", [recorder.port]),
        t.tls_secret("server-cert", server.cert_pem, server.key_pem),
        t.ca_secret("client-ca", client_ca.cert_pem),
        other_ca_secret,
        t.ca_secret("bundle-ca", bundle),
        no_key_secret,
        t.ca_secret("notpem-ca", "this is not a certificate\n"),
        tls("on", ON, auth(NGINX_PREFIX, pass_certificate_to_upstream="true")),
        tls("on-extra", ON, None, paths=("/extra/",), with_tls=False),
        tls("nopass", NO_PASS, auth(verify_client="on")),
        tls("optional", OPTIONAL, auth(verify_client="optional", pass_certificate_to_upstream="true")),
        tls("noca", NO_CA, auth(verify_client="optional_no_ca", pass_certificate_to_upstream="true")),
        tls("off", OFF, auth(verify_client="off")),
        tls("errorpage", ERROR_PAGE, auth(error_page=ERROR_PAGE_URL)),
        tls("otherca", OTHER_CA, auth(secret="default/other-ca")),
        tls("bundle", BUNDLE, auth(secret="default/bundle-ca")),
        tls("deep", DEEP, auth(verify_depth="2")),
        tls("plainhttp", PLAIN_HTTP, {**auth(), PIER_PREFIX + "ssl-redirect": "false"}),
        tls("noauth", NO_AUTH),
        tls("matchcn", MATCH_CN, auth(NGINX_PREFIX, match_cn=r"CN=(alice|bob),O=Pier\x20Test$")),
        tls("missing", MISSING, auth(secret="default/missing-ca")),
        tls("missing-extra", MISSING, None, paths=("/extra/",), with_tls=False),
        tls("nokey", NO_KEY, auth(secret="default/nokey-ca")),
        tls("notpem", NOT_PEM, auth(secret="default/notpem-ca")),
        tls("extauth", EXT_AUTH, {**auth(verify_client="optional"),
                                  PIER_PREFIX + "auth-url": f"http://127.0.0.1:{auth_service.port}/check"}),
    ))
    stack.start()
    ready = MtlsStack(stack, recorder, auth_service, server_ca, server, client_ca, clients, certs)
    # The first snapshot holds everything: once a TLS host answers with its certificate, it is loaded.
    wait_until(lambda: ready.get(NO_AUTH).status == 200, 10, "noauth.test served over HTTPS",
               alive=stack.check_alive)
    yield ready
    recorder.close()
    auth_service.close()


def assert_verified(seen: Seen, subject: str, issuer: str = f"CN={CLIENT_CA_NAME}") -> None:
    assert seen.status == 200, (seen.status, seen.text)
    assert seen.field(VERIFY) == "SUCCESS", seen.fields()
    assert seen.field(SUBJECT) == subject, seen.fields()
    assert seen.field(ISSUER) == issuer, seen.fields()


# -- verify on ---------------------------------------------------------------------------------

def test_verify_on_without_a_certificate_is_400(mtls):
    assert_refused(mtls.get(ON), 400, NO_CERTIFICATE)
    # Every route of the host, also one of another Ingress that has no auth-tls key itself.
    assert_refused(mtls.get(ON, "/extra/page"), 400, NO_CERTIFICATE)
    assert_refused(mtls.get(NO_PASS), 400, NO_CERTIFICATE)


def test_verify_on_with_a_certificate_no_ca_of_the_host_vouches_for_is_400(mtls):
    c = mtls.clients
    assert_refused(mtls.get(ON, client=c.mallory), 400, CERTIFICATE_ERROR)
    assert_refused(mtls.get(ON, client=c.impostor), 400, CERTIFICATE_ERROR)  # self-signed, alice's name
    assert_refused(mtls.get(ON, "/extra/page", client=c.mallory), 400, CERTIFICATE_ERROR)
    assert_refused(mtls.get(OTHER_CA, client=c.alice), 400, CERTIFICATE_ERROR)


def test_verify_on_with_a_good_certificate_reaches_the_upstream_with_the_ssl_client_fields(mtls):
    alice = mtls.clients.alice
    seen = mtls.get(ON, "/app?x=1", client=alice)
    assert_verified(seen, ALICE_DN)
    assert seen.upstream.target == "/app?x=1"
    # pass-certificate-to-upstream: the leaf, PEM, escaped as $ssl_client_escaped_cert.
    cert = seen.field(CERT)
    assert cert == t.nginx_escaped(t.leaf_pem(alice)), cert
    assert cert.startswith("-----BEGIN%20CERTIFICATE-----%0A") and cert.endswith("-----END%20CERTIFICATE-----%0A")
    assert re.fullmatch(r"[A-Za-z0-9._~-]*(%[0-9A-F]{2}[A-Za-z0-9._~-]*)*", cert), cert
    # The route of the other Ingress for the host is covered too.
    assert_verified(mtls.get(ON, "/extra/page", client=alice), ALICE_DN)
    # The other CA's client on its own host; both CAs in one ca.crt let both in.
    assert_verified(mtls.get(OTHER_CA, client=mtls.clients.mallory), MALLORY_DN, f"CN={OTHER_CA_NAME}")
    assert_verified(mtls.get(BUNDLE, client=alice), ALICE_DN)
    assert_verified(mtls.get(BUNDLE, client=mtls.clients.mallory), MALLORY_DN, f"CN={OTHER_CA_NAME}")
    assert_refused(mtls.get(BUNDLE, client=mtls.clients.impostor), 400, CERTIFICATE_ERROR)


def test_the_certificate_is_only_passed_with_pass_certificate_to_upstream(mtls):
    seen = mtls.get(NO_PASS, client=mtls.clients.alice)
    assert_verified(seen, ALICE_DN)
    assert seen.field(CERT) is None, seen.fields()


def test_a_client_cannot_forge_the_ssl_client_fields(mtls):
    forged = {"SSL-Client-Verify": "SUCCESS", "ssl-client-subject-dn": "CN=admin,O=Pier Test",
              "Ssl-Client-Issuer-Dn": f"CN={CLIENT_CA_NAME}", "ssl-client-cert": "forged"}
    # Verified: each field once, Pier's value.
    seen = mtls.get(ON, client=mtls.clients.alice, headers=forged)
    assert_verified(seen, ALICE_DN)
    assert seen.field(CERT) == t.nginx_escaped(t.leaf_pem(mtls.clients.alice))
    assert len(seen.fields()) == 4, seen.fields()
    # No certificate on an optional host: NONE, and none of the client's claims.
    seen = mtls.get(OPTIONAL, headers=forged)
    assert seen.status == 200, seen.text
    assert seen.fields() == [(VERIFY, "NONE")]
    # Without pass-certificate-to-upstream the client's ssl-client-cert does not pass either.
    seen = mtls.get(NO_PASS, client=mtls.clients.alice, headers=forged)
    assert_verified(seen, ALICE_DN)
    assert seen.field(CERT) is None, seen.fields()
    # A failed verification let through (optional_no_ca) is reported as such.
    seen = mtls.get(NO_CA, client=mtls.clients.mallory, headers=forged)
    assert seen.status == 200, seen.text
    assert seen.field(VERIFY).startswith("FAILED:"), seen.fields()
    assert seen.field(SUBJECT) == MALLORY_DN


# -- the other modes ---------------------------------------------------------------------------

def test_the_auth_service_gets_the_same_ssl_client_fields_as_the_backend(mtls):
    forged = {VERIFY: "SUCCESS", SUBJECT: "CN=admin", ISSUER: "CN=forged", CERT: "forged"}

    def asked(test_id: str) -> list[tuple[str, str]]:
        recorded = [r for r in mtls.auth_service.requests() if r.header("x-test-id") == test_id]
        assert len(recorded) == 1, f"the auth service was asked {len(recorded)} times"
        return [(name.lower(), value) for name, value in recorded[0].headers if name.lower() in CLIENT_FIELDS]

    with_certificate = mtls.get(EXT_AUTH, client=mtls.clients.alice, headers=forged)
    assert_verified(with_certificate, ALICE_DN)
    assert asked(with_certificate.upstream.header("x-test-id")) == with_certificate.fields()

    without = mtls.get(EXT_AUTH, headers=forged)
    assert without.status == 200, (without.status, without.text)
    assert without.fields() == [(VERIFY, "NONE")]
    assert asked(without.upstream.header("x-test-id")) == [(VERIFY, "NONE")]


def test_optional_lets_no_certificate_through_but_not_a_bad_one(mtls):
    c = mtls.clients
    none = mtls.get(OPTIONAL)
    assert none.status == 200, none.text
    assert none.fields() == [(VERIFY, "NONE")]  # no subject, issuer or certificate
    assert_refused(mtls.get(OPTIONAL, client=c.mallory), 400, CERTIFICATE_ERROR)
    assert_refused(mtls.get(OPTIONAL, client=c.impostor), 400, CERTIFICATE_ERROR)
    good = mtls.get(OPTIONAL, client=c.alice)
    assert_verified(good, ALICE_DN)
    assert good.field(CERT) == t.nginx_escaped(t.leaf_pem(c.alice))


def test_optional_no_ca_lets_anything_through_and_tells_the_upstream(mtls):
    c = mtls.clients
    for client, subject, issuer in ((c.mallory, MALLORY_DN, f"CN={OTHER_CA_NAME}"), (c.impostor, ALICE_DN, ALICE_DN)):
        seen = mtls.get(NO_CA, client=client)
        assert seen.status == 200, seen.text
        verify = seen.field(VERIFY)
        assert verify.startswith("FAILED:") and len(verify) > len("FAILED:"), verify  # OpenSSL's reason follows
        assert seen.field(SUBJECT) == subject, seen.fields()
        assert seen.field(ISSUER) == issuer, seen.fields()
        assert seen.field(CERT) == t.nginx_escaped(t.leaf_pem(client))
    none = mtls.get(NO_CA)
    assert none.status == 200 and none.fields() == [(VERIFY, "NONE")], (none.status, none.fields())
    assert_verified(mtls.get(NO_CA, client=c.alice), ALICE_DN)


def test_verify_off_asks_for_no_certificate(mtls):
    assert mtls.get(OFF).status == 200
    assert mtls.get(OFF, client=mtls.clients.mallory).status == 200


def test_error_page_redirects_instead_of_the_400(mtls):
    for client in (None, mtls.clients.mallory, mtls.clients.impostor):
        seen = mtls.get(ERROR_PAGE, "/private", client=client)
        assert seen.status == 302, (seen.status, seen.text)
        assert seen.response.header("Location") == ERROR_PAGE_URL
        assert seen.upstream is None
    assert_verified(mtls.get(ERROR_PAGE, client=mtls.clients.alice), ALICE_DN)


def test_verify_depth_counts_intermediate_cas_as_nginx_does(mtls):
    """nginx's ssl_verify_depth is OpenSSL's verify depth: the number of intermediate CAs between
    the client's certificate and a trusted one (the client sends them after its leaf). The
    default 1 takes a certificate issued by the CA directly or through one intermediate; two
    need 2. (Checked with nginx 1.22 / OpenSSL 3.0: see the nginx comparison below.)"""
    c = mtls.clients
    assert_verified(mtls.get(ON, client=c.alice), ALICE_DN)
    assert_verified(mtls.get(ON, client=c.bob), BOB_DN, f"CN={INTERMEDIATE_NAME}")
    assert_refused(mtls.get(ON, client=c.deep), 400, CERTIFICATE_ERROR)
    assert_verified(mtls.get(DEEP, client=c.deep), "CN=deep,O=Pier Test", f"CN={DEEPER_NAME}")
    assert_verified(mtls.get(DEEP, client=c.alice), ALICE_DN)


# -- SNI and Host, session resumption ----------------------------------------------------------

def test_a_connection_not_verified_for_the_host_is_421(mtls):
    c = mtls.clients
    # The handshake named a host without client certificates: none was asked for.
    for client in (None, c.alice):
        seen = mtls.get(ON, client=client, sni=NO_AUTH)
        assert seen.status == 421, (seen.status, seen.text)
        assert seen.upstream is None
    # The handshake verified the certificate against another CA (successfully, for that host).
    seen = mtls.get(ON, client=c.mallory, sni=OTHER_CA)
    assert seen.status == 421, (seen.status, seen.text)
    assert seen.upstream is None
    seen = mtls.get(BUNDLE, client=c.mallory, sni=OTHER_CA)
    assert seen.status == 421, (seen.status, seen.text)
    # The reverse is served: a host without client certificates needs none, whatever the
    # handshake asked for (with or without a certificate sent).
    for client in (c.alice, None):
        seen = mtls.get(NO_AUTH, client=client, sni=ON)
        assert seen.status == 200, (seen.status, seen.text)


def _client_offers_sessions_across_names(context: ssl.SSLContext, server: t.KeyPair) -> bool:
    """Whether this client context offers a session it got for one name when connecting with
    another: a Python TLS server (one SSL_CTX, no session ID context) resumes whatever is offered,
    so its session_reused says what the client did. Makes the checks below meaningful."""
    server_context = t.server_context(server)
    listener = socket.create_server(("127.0.0.1", 0))
    reused: list[bool] = []

    def serve() -> None:
        for _ in range(2):
            try:
                raw, _ = listener.accept()
                with server_context.wrap_socket(raw, server_side=True) as tls:
                    tls.settimeout(5)
                    tls.recv(16)
                    tls.sendall(b"ok")
                    reused.append(tls.session_reused)
            except (OSError, ssl.SSLError):
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        session = None
        for name in (NO_AUTH, ON):
            with socket.create_connection(listener.getsockname(), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname=name, session=session) as tls:
                    tls.sendall(b"hi")
                    tls.recv(16)  # TLS 1.3: the ticket comes after the handshake
                    session = tls.session
        thread.join(timeout=5)
    finally:
        listener.close()
    return reused == [False, True]


def _resume(mtls: MtlsStack, context: ssl.SSLContext, sni: str, session: Optional[ssl.SSLSession]):
    """One request on a connection to `sni` (also the Host) offering `session`; returns what was
    seen, whether the session was resumed, and the connection's session afterwards."""
    test_id = mtls.next_id()
    with t.TlsConnection(mtls.https_port, sni, None, context=context, session=session) as connection:
        connection.send(b"GET / HTTP/1.1\r\nHost: " + sni.encode() + b"\r\nX-Test-Id: " + test_id.encode() +
                        b"\r\nConnection: close\r\n\r\n")
        response = connection.read_response()
        return Seen(response, mtls.upstream_of(test_id)), connection.sock.session_reused, connection.sock.session


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"])
def test_a_session_is_not_resumed_across_client_certificate_policies(mtls, version):
    # Python's ssl takes a session only on a socket of the context that made it: one context
    # per client certificate, each used for every connection of that client.
    def context(client: Optional[t.KeyPair]) -> ssl.SSLContext:
        made = t.client_context(mtls.server_ca, client)
        made.minimum_version = made.maximum_version = version
        return made

    with_alice, without = context(mtls.clients.alice), context(None)
    assert _client_offers_sessions_across_names(with_alice, mtls.server), \
        "the client does not offer a session to another name: the checks below would prove nothing"

    # Control: on the same host the session is resumed, and still carries the verification.
    first, reused, alice_session = _resume(mtls, with_alice, ON, None)
    assert_verified(first, ALICE_DN)
    assert not reused
    again, reused, _ = _resume(mtls, with_alice, ON, alice_session)
    assert reused, "a session is not resumed even on the same client-certificate host"
    assert_verified(again, ALICE_DN)

    # A session of a host without client certificates: a full handshake, which asks for one.
    _, _, plain_session = _resume(mtls, with_alice, NO_AUTH, None)
    seen, reused, _ = _resume(mtls, with_alice, ON, plain_session)
    assert not reused, "a session made without a client certificate was resumed on a host that requires one"
    assert_verified(seen, ALICE_DN)
    _, _, plain_session = _resume(mtls, without, NO_AUTH, None)
    seen, reused, _ = _resume(mtls, without, ON, plain_session)
    assert not reused
    assert_refused(seen, 400, NO_CERTIFICATE)

    # alice's session, verified against the client CA, offered to the host of another CA: a
    # full handshake checks her certificate against that CA, and it fails there.
    seen, reused, _ = _resume(mtls, with_alice, OTHER_CA, alice_session)
    assert not reused, "a session verified against one CA was resumed on a host of another CA"
    assert_refused(seen, 400, CERTIFICATE_ERROR)


# -- plain HTTP --------------------------------------------------------------------------------

def test_plain_http_to_a_client_certificate_host(mtls):
    # ssl-redirect "false": served over plain HTTP, but there is no certificate there.
    assert_refused(mtls.plain_get(PLAIN_HTTP), 400, NO_CERTIFICATE)
    # The default (spec.tls lists the host): redirected to HTTPS, where one can be presented.
    seen = mtls.plain_get(ON, "/app?x=1")
    assert seen.status == 308, (seen.status, seen.text)
    assert seen.response.header("Location") == f"https://{ON}:{mtls.https_port}/app?x=1"
    assert seen.upstream is None
    # Over HTTPS the plainhttp.test host checks certificates as any other.
    assert_verified(mtls.get(PLAIN_HTTP, client=mtls.clients.alice), ALICE_DN)


# -- configuration problems --------------------------------------------------------------------

def test_an_unusable_ca_secret_closes_the_host_with_503_and_is_reported(mtls):
    cases = {MISSING: ("missing", "default/missing-ca"), NO_KEY: ("nokey", "default/nokey-ca"),
             NOT_PEM: ("notpem", "default/notpem-ca")}
    for host, (ingress, secret) in cases.items():
        for client in (None, mtls.clients.alice):
            seen = mtls.get(host, client=client)
            assert seen.status == 503, (host, seen.status, seen.text)
            assert seen.upstream is None, host

        def reported() -> bool:
            return any("auth-tls-secret" in line and secret in line
                       for line in controller_warnings(mtls.stack, ingress))

        wait_until(reported, WARNING_TIMEOUT_S, f"the controller's warning about ingress default/{ingress} ({secret})")
    nokey_warnings = controller_warnings(mtls.stack, "nokey")
    assert any("ca.crt" in line for line in nokey_warnings), nokey_warnings
    # Every route of the host: also the one of the Ingress without auth-tls keys.
    seen = mtls.get(MISSING, "/extra/page", client=mtls.clients.alice)
    assert seen.status == 503, (seen.status, seen.text)
    # The other hosts keep working.
    assert_verified(mtls.get(ON, client=mtls.clients.alice), ALICE_DN)
    assert mtls.get(NO_AUTH).status == 200


def test_auth_tls_match_cn_lets_in_only_the_subjects_it_matches(mtls):
    # "CN=(alice|bob),O=Pier\x20Test$" over the RFC 2253 subject, as ingress-nginx's
    # `if ($ssl_client_s_dn !~ ...) { return 403 "client certificate unauthorized"; }`.
    assert_verified(mtls.get(MATCH_CN, client=mtls.clients.alice), ALICE_DN)
    # bob's subject has an OU between CN and O: the pattern does not find "CN=bob,O=Pier Test".
    assert_refused(mtls.get(MATCH_CN, client=mtls.clients.bob), 403, "client certificate unauthorized")
    assert_refused(mtls.get(MATCH_CN, client=mtls.clients.carol), 403, "client certificate unauthorized")
    # The certificate's own check comes first.
    assert_refused(mtls.get(MATCH_CN), 400, NO_CERTIFICATE)
    assert_refused(mtls.get(MATCH_CN, client=mtls.clients.impostor), 400, CERTIFICATE_ERROR)
    assert controller_warnings(mtls.stack, "matchcn") == []


# -- other clients -----------------------------------------------------------------------------

def curl(mtls: MtlsStack, host: str, client: Optional[t.KeyPair]) -> tuple[str, str]:
    """(status code, body) of curl --cert/--key to https://host/ through --resolve."""
    port = mtls.https_port
    cert = ["--cert", str(client.cert), "--key", str(client.key)] if client else []
    completed = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "--cacert", str(mtls.server_ca.cert), *cert,
         "--resolve", f"{host}:{port}:127.0.0.1", "-w", "\n%{http_code}", f"https://{host}:{port}/curl"],
        capture_output=True, text=True, timeout=10)
    assert completed.returncode == 0, completed.stderr
    body, _, code = completed.stdout.rpartition("\n")
    return code, body


def test_curl_with_and_without_a_client_certificate(mtls):
    code, body = curl(mtls, ON, mtls.clients.alice)
    assert code == "200", body
    seen = mtls.recorder.requests()[-1]
    assert seen.target == "/curl" and seen.header(VERIFY) == "SUCCESS" and seen.header(SUBJECT) == ALICE_DN
    code, body = curl(mtls, ON, None)
    assert code == "400" and NO_CERTIFICATE in body, (code, body)
    code, body = curl(mtls, ON, mtls.clients.mallory)
    assert code == "400" and CERTIFICATE_ERROR in body, (code, body)


# -- nginx -------------------------------------------------------------------------------------

@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_answers_and_fields_as_nginx(mtls, tmp_path):
    """nginx configured as ingress-nginx configures a server for these annotations (on, optional,
    optional_no_ca; depth 1; the four proxy_set_header), one nginx per mode, with the same
    certificates and the same upstream: every case gives the same status and fields."""
    c = mtls.clients
    cases = {"none": None, "alice": c.alice, "mallory": c.mallory, "impostor": c.impostor, "bob": c.bob,
             "deep": c.deep, "carol": c.carol}
    differences = []
    for mode, pier_host in (("on", ON), ("optional", OPTIONAL), ("optional_no_ca", NO_CA)):
        directory = tmp_path / mode
        directory.mkdir()
        tls_port = free_port()
        nginx, _ = start_nginx(mtls.stack.launcher, directory, client_certificate_server(
            tls_port, mtls.server.cert, mtls.server.key, mtls.client_ca.cert, mode, mtls.recorder.port))
        try:
            for name, client in cases.items():
                theirs = t.client_auth_outcome(mtls.get(pier_host, client=client, port=tls_port))
                ours = t.client_auth_outcome(mtls.get(pier_host, client=client))
                if ours != theirs:
                    differences.append(f"{mode}, {name}:\n  nginx {theirs}\n  pier  {ours}")
        finally:
            nginx.stop()
    assert not differences, "\n".join(differences)


def test_nothing_crashed_and_a_good_request_still_works(mtls):
    mtls.stack.check_alive()
    seen = mtls.get(ON, client=mtls.clients.alice)
    assert_verified(seen, ALICE_DN)
    assert seen.field(CERT) == t.nginx_escaped(t.leaf_pem(mtls.clients.alice))
