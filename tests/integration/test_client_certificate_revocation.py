"""Client-certificate revocation lists: a `ca.crl` key next to `ca.crt` in the Secret that
auth-tls-secret names, checked as nginx's ssl_crl checks it (OpenSSL's CRL_CHECK | CRL_CHECK_ALL).

- Every certificate of the client's chain needs a current CRL from its issuer in ca.crl that
  does not list it: a revoked certificate, one whose chain lacks a CRL from an issuer (e.g.
  only the root's for a chain through an intermediate) and any under an expired CRL fail
  verification: 400 "The SSL certificate error" in every mode, optional_no_ca included, which
  (as nginx's ngx_ssl_verify_error_optional) only lets through certificates no CA vouches for.
- A ca.crl that does not parse closes the host (503, InvalidAnnotation warning).
- A new ca.crl takes effect with the next snapshot: new connections are checked against it, a
  connection kept alive from before gets 421 on its next request, a TLS session from before is
  not resumed.
- The last-but-one test runs the same cases against real nginx with ssl_crl and compares.

Everything runs on 127.0.0.1 as in test_client_certificates.py: a recording upstream in the test
process, the controller in manifests mode, the dataplane with an HTTPS listener, Python's ssl as
client. CAs, certificates and CRLs are made with the openssl CLI in the module's tmp dir.
"""

from __future__ import annotations

import itertools
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import pytest

import manifests as m
import tlsutil as t
from harness import PierStack, free_port, wait_until
from nginxutil import NGINX, client_certificate_server, start_nginx
from promtext import metric
from rawhttp import format_request
from recorder import RecordedRequest, Recorder
from tlsutil import (CERT, CERTIFICATE_ERROR, ISSUER, NO_CERTIFICATE, SUBJECT, VERIFY, Seen, assert_refused,
                     controller_warnings)

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"

# Every host checks client certificates against the root CA (ca.crt) with verify depth 2 and
# passes the certificate to the upstream; they differ in the Secret's ca.crl and the mode.
NO_CRL = "nocrl.test"                   # on; no ca.crl
CRL = "crl.test"                        # on; the root's CRL, eve revoked (nginx.ingress.kubernetes.io/ keys)
CRL_OPTIONAL = "crl-optional.test"      # optional; the same
CRL_NO_CA = "crl-noca.test"             # optional_no_ca; the same
CHAIN = "chain.test"                    # on; the root's CRL and the intermediate's
CHAIN_NO_CA = "chain-noca.test"         # optional_no_ca; the same
REVOKED_CA = "revokedca.test"           # on; the root's CRL also revokes the intermediate, and the intermediate's
REVOKED_CA_NO_CA = "revokedca-noca.test"  # optional_no_ca; the same
EXPIRED = "expired.test"                # on; the root's CRL, expired (nextUpdate yesterday)
EXPIRED_NO_CA = "expired-noca.test"     # optional_no_ca; the same
GARBAGE = "garbage.test"                # on; ca.crl a CRL block that does not parse; Ingress garbage-extra adds /extra/
ROTATE = "rotate.test"                  # on; the root's CRL, eve revoked, then eve and dave (rotate.yaml)
ROTATE_NO_CA = "rotate-noca.test"       # optional_no_ca; the same
NO_AUTH = "noauth.test"                 # TLS without client certificates
HOSTS = (NO_CRL, CRL, CRL_OPTIONAL, CRL_NO_CA, CHAIN, CHAIN_NO_CA, REVOKED_CA, REVOKED_CA_NO_CA, EXPIRED,
         EXPIRED_NO_CA, GARBAGE, ROTATE, ROTATE_NO_CA, NO_AUTH)

ROOT_NAME = "Pier CRL Root CA"
INTERMEDIATE_NAME = "Pier CRL Intermediate CA"
ROOT_DN = f"CN={ROOT_NAME}"
INTERMEDIATE_DN = f"CN={INTERMEDIATE_NAME}"
ALICE_DN, EVE_DN, DAVE_DN, BOB_DN = (f"CN={name},O=Pier Test" for name in ("alice", "eve", "dave", "bob"))

GARBAGE_CRL = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"

REVOKED = "FAILED:certificate revoked"
NO_CRL_FROM_ISSUER = "FAILED:unable to get certificate CRL"
CRL_EXPIRED = "FAILED:CRL has expired"

WARNING_TIMEOUT_S = 10
SNAPSHOT_TIMEOUT_S = 10


@dataclass
class Clients:
    """The client certificates (cert files hold the leaf, then its chain)."""
    alice: t.KeyPair   # issued by the root, never revoked
    eve: t.KeyPair     # issued by the root, revoked in every root CRL
    dave: t.KeyPair    # issued by the root, revoked only by the CRL rotate.test gets later
    bob: t.KeyPair     # issued by the intermediate (chain: leaf, intermediate)


@dataclass
class Crls:
    """The ca.crl files (PEM, one or more CRLs), also given to nginx's ssl_crl."""
    root: Path                  # the root's CRL: eve revoked
    chain: Path                 # root + the intermediate's (nothing revoked)
    revoked_intermediate: Path  # the root's revoking eve and the intermediate, + the intermediate's
    expired: Path               # the root's, nothing revoked, nextUpdate yesterday
    rotated: Path               # the root's: eve and dave revoked


@dataclass
class CrlStack:
    stack: PierStack
    recorder: Recorder
    server_ca: t.KeyPair
    server: t.KeyPair
    root: t.KeyPair
    clients: Clients
    crls: Crls
    _ids: itertools.count = field(default_factory=itertools.count)

    @property
    def https_port(self) -> int:
        return self.stack.https_port

    def next_id(self) -> str:
        return f"crl-{next(self._ids)}"

    def upstream_of(self, test_id: str) -> Optional[RecordedRequest]:
        return t.recorded(self.recorder, test_id)

    def get(self, host: str, path: str = "/", client: Optional[t.KeyPair] = None,
            port: Optional[int] = None) -> Seen:
        """GET over a new TLS connection (SNI = Host = host), presenting `client` if asked."""
        test_id = self.next_id()
        response = t.https_get(port or self.https_port, host, path, self.server_ca, headers={"X-Test-Id": test_id},
                               client=client)
        return Seen(response, self.upstream_of(test_id))

    def connect(self, host: str, context: ssl.SSLContext, session: Optional[ssl.SSLSession] = None
                ) -> t.TlsConnection:
        return t.TlsConnection(self.https_port, host, None, context=context, session=session)

    def send(self, connection: t.TlsConnection, host: str) -> Seen:
        """One keep-alive GET on `connection`."""
        test_id = self.next_id()
        connection.send(format_request("GET", "/", headers={"X-Test-Id": test_id}, host=host))
        return Seen(connection.read_response(), self.upstream_of(test_id))


def auth(secret: str, prefix: str = PIER_PREFIX, **keys: str) -> dict:
    """auth-tls-secret default/`secret`, verify depth 2, pass-certificate-to-upstream, plus
    auth-tls-<key> (underscores as dashes) under `prefix`."""
    annotations = {prefix + "auth-tls-secret": f"default/{secret}", prefix + "auth-tls-verify-depth": "2",
                   prefix + "auth-tls-pass-certificate-to-upstream": "true"}
    for key, value in keys.items():
        annotations[prefix + "auth-tls-" + key.replace("_", "-")] = value
    return annotations


def ingress(name: str, host: str, annotations: Optional[dict] = None, paths=("/",), with_tls: bool = True) -> dict:
    return t.tls_ingress(name, host, "upstream", "server-cert" if with_tls else None, annotations, paths)


def rotate_manifest(root: t.KeyPair, crl: Path) -> str:
    """rotate.yaml: the Secret of rotate.test and rotate-noca.test, with `crl` as its ca.crl."""
    return m.render(t.ca_secret("rotate-ca", root.cert_pem, crl.read_text()))


@pytest.fixture(scope="module")
def crl(module_launcher, tmp_path_factory) -> CrlStack:
    workdir = tmp_path_factory.mktemp("client-cert-crls")
    certs = workdir / "certs"
    stack = PierStack(module_launcher, workdir)
    stack.https_port = free_port()

    server_ca = t.make_ca(certs, "Pier Server CA")
    server = t.issue(server_ca, certs, CRL, dns_names=HOSTS)  # one certificate for every host
    root = t.make_ca(certs, ROOT_NAME, crl_sign=True)
    intermediate = t.make_intermediate_ca(root, certs, INTERMEDIATE_NAME, crl_sign=True)
    clients = Clients(
        alice=t.issue_client(root, certs, "alice", "/O=Pier Test/CN=alice"),
        eve=t.issue_client(root, certs, "eve", "/O=Pier Test/CN=eve"),
        dave=t.issue_client(root, certs, "dave", "/O=Pier Test/CN=dave"),
        bob=t.issue_client(intermediate, certs, "bob", "/O=Pier Test/CN=bob", chain=[intermediate]),
    )
    crl_dir = certs / "crls"
    root_crl = t.make_crl(root, crl_dir, revoked=[clients.eve])
    intermediate_crl = t.make_crl(intermediate, crl_dir)

    def bundle(name: str, *parts: Path) -> Path:
        path = crl_dir / name
        path.write_text("".join(part.read_text() for part in parts))
        return path

    crls = Crls(
        root=root_crl,
        chain=bundle("chain.crl.pem", root_crl, intermediate_crl),
        revoked_intermediate=bundle("revoked-intermediate.crl.pem",
                                    t.make_crl(root, crl_dir, revoked=[clients.eve, intermediate]),
                                    intermediate_crl),
        expired=t.make_expired_crl(root, crl_dir),
        rotated=t.make_crl(root, crl_dir, revoked=[clients.eve, clients.dave]),
    )
    recorder = Recorder()

    def secret(name: str, crl_pem: Optional[str]) -> dict:
        return t.ca_secret(name, root.cert_pem, crl_pem)

    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("crl.yaml", m.render(
        *m.service_with_backends("upstream", [recorder.port]),
        t.tls_secret("server-cert", server.cert_pem, server.key_pem),
        secret("root-ca", None),
        secret("crl-ca", crls.root.read_text()),
        secret("chain-ca", crls.chain.read_text()),
        secret("revokedca-ca", crls.revoked_intermediate.read_text()),
        secret("expired-ca", crls.expired.read_text()),
        secret("garbage-ca", GARBAGE_CRL),
        ingress("nocrl", NO_CRL, auth("root-ca")),
        ingress("crl", CRL, auth("crl-ca", NGINX_PREFIX)),
        ingress("crl-optional", CRL_OPTIONAL, auth("crl-ca", verify_client="optional")),
        ingress("crl-noca", CRL_NO_CA, auth("crl-ca", verify_client="optional_no_ca")),
        ingress("chain", CHAIN, auth("chain-ca")),
        ingress("chain-noca", CHAIN_NO_CA, auth("chain-ca", verify_client="optional_no_ca")),
        ingress("revokedca", REVOKED_CA, auth("revokedca-ca")),
        ingress("revokedca-noca", REVOKED_CA_NO_CA, auth("revokedca-ca", verify_client="optional_no_ca")),
        ingress("expired", EXPIRED, auth("expired-ca")),
        ingress("expired-noca", EXPIRED_NO_CA, auth("expired-ca", verify_client="optional_no_ca")),
        ingress("garbage", GARBAGE, auth("garbage-ca")),
        ingress("garbage-extra", GARBAGE, None, paths=("/extra/",), with_tls=False),
        ingress("rotate", ROTATE, auth("rotate-ca")),
        ingress("rotate-noca", ROTATE_NO_CA, auth("rotate-ca", verify_client="optional_no_ca")),
        ingress("noauth", NO_AUTH),
    ))
    stack.write_manifest("rotate.yaml", rotate_manifest(root, crls.root))
    stack.start()
    ready = CrlStack(stack, recorder, server_ca, server, root, clients, crls)
    # The first snapshot holds everything: once a TLS host answers with its certificate, it is loaded.
    wait_until(lambda: ready.get(NO_AUTH).status == 200, 10, "noauth.test served over HTTPS",
               alive=stack.check_alive)
    yield ready
    recorder.close()


def assert_verified(seen: Seen, subject: str, issuer: str = ROOT_DN) -> None:
    assert seen.status == 200, (seen.status, seen.text)
    assert seen.field(VERIFY) == "SUCCESS", seen.fields()
    assert seen.field(SUBJECT) == subject, seen.fields()
    assert seen.field(ISSUER) == issuer, seen.fields()


def assert_let_through(seen: Seen, verify: str, subject: str, issuer: str, client: t.KeyPair) -> None:
    """optional_no_ca: the request reached the upstream, told `verify` and who the client is."""
    assert seen.status == 200, (seen.status, seen.text)
    assert seen.client_fields() == {VERIFY: verify, SUBJECT: subject, ISSUER: issuer,
                                    CERT: t.nginx_escaped(t.leaf_pem(client))}, seen.fields()


# -- revoked and not ------------------------------------------------------------------------------

def test_a_revoked_certificate_is_400_and_a_good_one_from_the_same_ca_is_served(crl):
    c = crl.clients
    # Control: without a ca.crl, eve's certificate is a good one.
    assert_verified(crl.get(NO_CRL, client=c.eve), EVE_DN)
    # The root's CRL lists eve: refused as any certificate that fails verification.
    assert_refused(crl.get(CRL, client=c.eve), 400, CERTIFICATE_ERROR)
    assert_refused(crl.get(CRL, "/app?x=1", client=c.eve), 400, CERTIFICATE_ERROR)
    # alice, from the same CA and not listed, gets through; the CRL checks the root itself too.
    seen = crl.get(CRL, "/app?x=1", client=c.alice)
    assert_verified(seen, ALICE_DN)
    assert seen.upstream.target == "/app?x=1"
    assert seen.field(CERT) == t.nginx_escaped(t.leaf_pem(c.alice))
    # No certificate: the usual 400.
    assert_refused(crl.get(CRL), 400, NO_CERTIFICATE)
    # optional: no certificate passes (NONE), a revoked one does not.
    none = crl.get(CRL_OPTIONAL)
    assert none.status == 200 and none.fields() == [(VERIFY, "NONE")], (none.status, none.text)
    assert_refused(crl.get(CRL_OPTIONAL, client=c.eve), 400, CERTIFICATE_ERROR)
    assert_verified(crl.get(CRL_OPTIONAL, client=c.alice), ALICE_DN)


def test_optional_no_ca_refuses_a_revoked_certificate_as_nginx_does(crl):
    """optional_no_ca lets through only certificates no CA vouches for (nginx's
    ngx_ssl_verify_error_optional); a revoked one is 400 there too."""
    c = crl.clients
    assert_refused(crl.get(CRL_NO_CA, client=c.eve), 400, CERTIFICATE_ERROR)
    assert_let_through(crl.get(CRL_NO_CA, client=c.alice), "SUCCESS", ALICE_DN, ROOT_DN, c.alice)
    none = crl.get(CRL_NO_CA)
    assert none.status == 200 and none.fields() == [(VERIFY, "NONE")], (none.status, none.fields())


# -- CRL_CHECK_ALL: every certificate of the chain --------------------------------------------------

def test_every_certificate_of_the_chain_needs_a_crl_from_its_issuer(crl):
    c = crl.clients
    # Control: bob's chain (leaf, intermediate) is good at depth 2 without CRLs.
    assert_verified(crl.get(NO_CRL, client=c.bob), BOB_DN, INTERMEDIATE_DN)
    # Only the root's CRL: nothing says whether the intermediate revoked bob.
    assert_refused(crl.get(CRL, client=c.bob), 400, CERTIFICATE_ERROR)
    assert_refused(crl.get(CRL_NO_CA, client=c.bob), 400, CERTIFICATE_ERROR)
    # The intermediate's CRL too: bob is in; eve is still out, alice still in.
    assert_verified(crl.get(CHAIN, client=c.bob), BOB_DN, INTERMEDIATE_DN)
    assert_let_through(crl.get(CHAIN_NO_CA, client=c.bob), "SUCCESS", BOB_DN, INTERMEDIATE_DN, c.bob)
    assert_refused(crl.get(CHAIN, client=c.eve), 400, CERTIFICATE_ERROR)
    assert_verified(crl.get(CHAIN, client=c.alice), ALICE_DN)
    # The root revoked the intermediate: bob's own certificate is not listed, but his chain is.
    assert_refused(crl.get(REVOKED_CA, client=c.bob), 400, CERTIFICATE_ERROR)
    assert_refused(crl.get(REVOKED_CA_NO_CA, client=c.bob), 400, CERTIFICATE_ERROR)
    assert_verified(crl.get(REVOKED_CA, client=c.alice), ALICE_DN)


def test_an_expired_crl_fails_every_certificate(crl):
    c = crl.clients
    for client in (c.alice, c.bob):
        assert_refused(crl.get(EXPIRED, client=client), 400, CERTIFICATE_ERROR)
    assert_refused(crl.get(EXPIRED_NO_CA, client=c.alice), 400, CERTIFICATE_ERROR)
    assert_refused(crl.get(EXPIRED), 400, NO_CERTIFICATE)


# -- a ca.crl that does not parse --------------------------------------------------------------------

def test_a_ca_crl_that_does_not_parse_closes_the_host_with_503_and_is_reported(crl):
    for path in ("/", "/extra/page"):  # also the route of the Ingress without auth-tls keys
        for client in (None, crl.clients.alice):
            seen = crl.get(GARBAGE, path, client=client)
            assert seen.status == 503, (path, seen.status, seen.text)
            assert seen.upstream is None, path

    def reported() -> Optional[str]:
        return next((line for line in controller_warnings(crl.stack, "garbage")
                     if line.startswith("InvalidAnnotation:") and "default/garbage-ca" in line and "ca.crl" in line),
                    None)

    try:
        wait_until(reported, WARNING_TIMEOUT_S, "the controller's InvalidAnnotation warning about ca.crl")
    except TimeoutError:
        raise AssertionError(f"no InvalidAnnotation warning naming ca.crl; the warnings about ingress "
                             f"default/garbage: {controller_warnings(crl.stack, 'garbage')}") from None
    # The Ingress that only adds a path to the host is not the one at fault.
    assert controller_warnings(crl.stack, "garbage-extra") == []
    # Other hosts of the dataplane keep working.
    assert_verified(crl.get(CRL, client=crl.clients.alice), ALICE_DN)
    assert crl.get(NO_AUTH).status == 200


# -- a new ca.crl ------------------------------------------------------------------------------------

def test_revoking_another_certificate_applies_to_new_and_kept_alive_connections(crl):
    c = crl.clients
    dave_context, alice_context = t.client_context(crl.server_ca, c.dave), t.client_context(crl.server_ca, c.alice)
    with crl.connect(ROTATE, dave_context) as kept_dave, crl.connect(ROTATE, alice_context) as kept_alice:
        # Before: dave is good, twice on each kept-alive connection.
        for _ in range(2):
            assert_verified(crl.send(kept_dave, ROTATE), DAVE_DN)
            assert_verified(crl.send(kept_alice, ROTATE), ALICE_DN)
        dave_session = kept_dave.sock.session
        with crl.connect(ROTATE, dave_context, dave_session) as resumed:
            assert_verified(crl.send(resumed, ROTATE), DAVE_DN)
            assert resumed.sock.session_reused, "a session is not resumed even before the change: proves nothing"
        assert_let_through(crl.get(ROTATE_NO_CA, client=c.dave), "SUCCESS", DAVE_DN, ROOT_DN, c.dave)

        crl.stack.write_manifest("rotate.yaml", rotate_manifest(crl.root, crl.crls.rotated))
        wait_until(lambda: crl.get(ROTATE, client=c.dave).status == 400, SNAPSHOT_TIMEOUT_S,
                   "a new connection with dave's certificate to be refused", alive=crl.stack.check_alive)

        # New connections: checked against the new CRL.
        assert_refused(crl.get(ROTATE, client=c.dave), 400, CERTIFICATE_ERROR)
        assert_refused(crl.get(ROTATE_NO_CA, client=c.dave), 400, CERTIFICATE_ERROR)
        assert_refused(crl.get(ROTATE, client=c.eve), 400, CERTIFICATE_ERROR)
        assert_verified(crl.get(ROTATE, client=c.alice), ALICE_DN)
        # Connections verified under the old CRL: 421, whether or not the new one lists them.
        for kept in (kept_dave, kept_alice):
            seen = crl.send(kept, ROTATE)
            assert seen.status == 421, (seen.status, seen.text)
            assert seen.upstream is None
    # A session from before the change is not resumed: the full handshake checks the new CRL.
    with crl.connect(ROTATE, dave_context, dave_session) as after:
        seen = crl.send(after, ROTATE)
        assert not after.sock.session_reused, "a session verified under the old CRL was resumed"
        assert_refused(seen, 400, CERTIFICATE_ERROR)
    # The hosts of the other Secrets did not change.
    assert_verified(crl.get(CRL, client=c.dave), DAVE_DN)


# -- nginx -------------------------------------------------------------------------------------------

@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_answers_and_fields_as_nginx_with_ssl_crl(crl, tmp_path):
    """nginx configured as ingress-nginx configures a server for a Secret with ca.crl
    (ssl_client_certificate, ssl_verify_client on / optional_no_ca, ssl_verify_depth 2,
    ssl_crl, the four proxy_set_header), one nginx per CRL file and mode, with the same
    certificates and upstream: every case gives the same status and fields."""
    c = crl.clients
    # ca.crl: (its file, the Pier hosts for on and optional_no_ca, the clients to present)
    setups = {
        "root CRL": (crl.crls.root, CRL, CRL_NO_CA,
                     {"none": None, "alice": c.alice, "eve (revoked)": c.eve, "bob (intermediate, no CRL)": c.bob}),
        "root and intermediate CRLs": (crl.crls.chain, CHAIN, CHAIN_NO_CA, {"bob": c.bob, "eve": c.eve}),
        "intermediate revoked": (crl.crls.revoked_intermediate, REVOKED_CA, REVOKED_CA_NO_CA,
                                 {"bob": c.bob, "alice": c.alice}),
        "expired CRL": (crl.crls.expired, EXPIRED, EXPIRED_NO_CA, {"none": None, "alice": c.alice}),
    }
    differences, compared = [], 0
    for index, (setup, (crl_file, on_host, no_ca_host, cases)) in enumerate(setups.items()):
        for mode, pier_host in (("on", on_host), ("optional_no_ca", no_ca_host)):
            directory = tmp_path / f"{index}-{mode}"
            directory.mkdir()
            tls_port = free_port()
            nginx, _ = start_nginx(crl.stack.launcher, directory, client_certificate_server(
                tls_port, crl.server.cert, crl.server.key, crl.root.cert, mode, crl.recorder.port, depth=2,
                crl=crl_file))
            try:
                for name, client in cases.items():
                    theirs = t.client_auth_outcome(crl.get(pier_host, client=client, port=tls_port))
                    ours = t.client_auth_outcome(crl.get(pier_host, client=client))
                    compared += 1
                    if ours != theirs:
                        differences.append(f"{setup}, {mode}, {name}:\n  nginx {theirs}\n  pier  {ours}")
            finally:
                nginx.stop()
    assert not differences, "\n".join(differences)
    assert compared == 20


def _next_update(crl_file: Path) -> float:
    """The earliest nextUpdate of the CRLs in a PEM file, as Unix seconds (openssl crl reads the first)."""
    blocks = crl_file.read_text().split("-----END X509 CRL-----")
    times = []
    for block in blocks:
        if "-----BEGIN X509 CRL-----" not in block:
            continue
        out = subprocess.run(["openssl", "crl", "-noout", "-nextupdate"], input=block + "-----END X509 CRL-----\n",
                             capture_output=True, text=True, timeout=10, check=True).stdout
        when = out.strip().split("=", 1)[1]  # nextUpdate=Nov 30 07:30:00 2026 GMT
        times.append(datetime.strptime(when, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc).timestamp())
    return min(times)


def test_the_first_crl_to_expire_is_a_metric_per_secret(crl):
    """pier_tls_crl_next_update_timestamp_seconds{secret}: the earliest nextUpdate of the Secret's
    CRLs (what PierClientCrlExpiringSoon alerts on); no series for a Secret without ca.crl."""
    port = crl.stack.admin_port
    name = "pier_tls_crl_next_update_timestamp_seconds"
    for secret, crl_file in (("default/crl-ca", crl.crls.root), ("default/chain-ca", crl.crls.chain),
                             ("default/expired-ca", crl.crls.expired)):
        assert metric(port, name, secret=secret) == _next_update(crl_file), secret
    assert metric(port, name, secret="default/expired-ca") < time.time()
    with pytest.raises(KeyError):
        metric(port, name, secret="default/root-ca")


def test_nothing_crashed_and_a_good_request_still_works(crl):
    crl.stack.check_alive()
    assert_verified(crl.get(CRL, client=crl.clients.alice), ALICE_DN)
