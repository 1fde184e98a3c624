"""TLS termination on the dataplane's HTTPS listener, driven through the controller's manifests
source: certificates chosen by SNI, the default certificate, wss://, rotation without touching
open connections, 421 when Host and certificate disagree, redirects, refused protocol versions,
and the pier_tls_* metrics. Real clients: openssl s_client, curl, Python ssl and websockets."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import time

import pytest
from websockets.sync.client import connect

import manifests as m
import tlsutil as t
from harness import PierStack, free_port, wait_until
from rawhttp import request

HOSTS = ("a.test", "b.test", "c.test")
WILDCARD = "*.wild.test"
DEFAULT_SUBJECT = "CN = Pier Default Certificate"
ROTATION_DEADLINE_S = 2.0


@pytest.fixture(scope="module")
def tls_stack(module_launcher, tmp_path_factory):
    """One chat backend behind `chat`, reachable as a.test, b.test, c.test and *.wild.test with
    a certificate each; plain.test without TLS, force.test without TLS but force-ssl-redirect,
    optout.test with TLS and ssl-redirect "false"."""
    workdir = tmp_path_factory.mktemp("tls")
    certs = workdir / "certs"
    stack = PierStack(module_launcher, workdir)
    stack.https_port = free_port()
    stack.ca = t.make_ca(certs)
    stack.certs = certs
    backend = stack.start_backend("chat-tls")
    objects = [m.ingress_class(), *m.service_with_backends("chat", [backend.port])]
    stack.pairs = {}
    for host in (*HOSTS, WILDCARD, "optout.test", "hsts.test"):
        pair = t.issue(stack.ca, certs, host)
        stack.pairs[host] = pair
        secret = host.replace("*", "star").replace(".", "-")
        objects.append(t.tls_secret(secret, pair.cert_pem, pair.key_pem))
        annotations = {"optout.test": {"pier.dev/ssl-redirect": "false"},
                       "hsts.test": {"pier.dev/ssl-redirect": "false", "pier.dev/hsts": "true",
                                     "pier.dev/hsts-max-age": "600", "pier.dev/hsts-include-subdomains": "true"},
                       }.get(host)
        objects.append(t.tls_ingress(secret, host, "chat", secret, annotations))
    objects.append(t.tls_ingress("plain", "plain.test", "chat", None))
    # Served under the wildcard certificate (by SNI), with the smallest chunk buffer: a TLS record
    # (up to 16 KiB) is then read in many pieces while OpenSSL holds the rest.
    objects.append(t.tls_ingress("tiny", "tiny.wild.test", "chat", None, {"pier.dev/proxy-buffer-size": "1k",
                                                                          "pier.dev/ssl-redirect": "false"}))
    objects.append(t.tls_ingress("force", "force.test", "chat", None, {"pier.dev/force-ssl-redirect": "true"}))
    stack.write_manifest("tls.yaml", m.render(*objects))
    stack.write_manifest("rot.yaml", rotation_manifest(t.issue(stack.ca, certs, "rot.test")))
    stack.start()
    # The controller's first snapshot holds everything; wait until the certificates are served.
    wait_until(lambda: t.presented_certificate(stack.https_port, "a.test").subject == "CN = a.test", 10,
               "a.test's certificate on the HTTPS listener", alive=stack.check_alive)
    return stack


def rotation_manifest(pair: t.KeyPair) -> str:
    return m.render(t.tls_secret("rot-test", pair.cert_pem, pair.key_pem),
                    t.tls_ingress("rot-test", "rot.test", "chat", "rot-test"))


def cn(host: str) -> str:
    return f"CN = {host}"


def test_each_host_gets_its_certificate_by_sni(tls_stack):
    for host in HOSTS:
        presented = t.presented_certificate(tls_stack.https_port, host)
        assert presented.subject == cn(host)
        assert presented.sans == f"DNS:{host}"
    wildcard = t.presented_certificate(tls_stack.https_port, "x.wild.test")
    assert wildcard.subject == cn(WILDCARD)
    assert wildcard.sans == f"DNS:{WILDCARD}"
    # SNI is case-insensitive.
    assert t.presented_certificate(tls_stack.https_port, "B.TEST").subject == cn("b.test")


def test_unknown_and_absent_sni_get_the_default_certificate(tls_stack):
    for servername in ("unknown.test", "a.b.wild.test", "wild.test", None):
        presented = t.presented_certificate(tls_stack.https_port, servername)
        assert presented.subject == DEFAULT_SUBJECT, servername
        assert presented.sans == ""


def test_https_request_reaches_the_backend_with_forwarded_proto(tls_stack):
    response = t.https_get(tls_stack.https_port, "a.test", "/headers", tls_stack.ca)
    assert response.status == 200, response.text
    headers = response.json()["headers"]
    assert headers.get("x-forwarded-proto") == "https", headers
    assert headers.get("host") == "a.test", headers
    assert response.header("Strict-Transport-Security") is None  # HSTS is off by default


def test_curl_resolve_over_https(tls_stack):
    port = tls_stack.https_port
    completed = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "--cacert", str(tls_stack.ca.cert), "--resolve", f"c.test:{port}:127.0.0.1",
         "-o", "/dev/null", "-w", "%{http_code} %{http_version} %{scheme}", f"https://c.test:{port}/healthz"],
        capture_output=True, text=True, timeout=10)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "200 1.1 HTTPS"


def test_alpn_is_http11_and_h2_is_not_chosen(tls_stack):
    hello = t.s_client(tls_stack.https_port, "a.test", ["-alpn", "h2,http/1.1"])
    assert "ALPN protocol: http/1.1" in hello.stdout, hello.stdout
    only_h2 = t.s_client(tls_stack.https_port, "a.test", ["-alpn", "h2"])
    assert "No ALPN negotiated" in only_h2.stdout, only_h2.stdout


def test_sessions_resume(tls_stack, tmp_path):
    session = tmp_path / "session.pem"
    first = t.s_client(tls_stack.https_port, "a.test", ["-tls1_2", "-sess_out", str(session)])
    assert first.returncode == 0 and "New, TLSv1.2" in first.stdout, first.stdout
    resumed = t.s_client(tls_stack.https_port, "a.test", ["-tls1_2", "-sess_in", str(session)])
    assert resumed.returncode == 0
    assert "Reused, TLSv1.2" in resumed.stdout, resumed.stdout

    # A resumed session still knows which certificate it stands for: the Host check passes.
    context = t.client_context(tls_stack.ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    saved = None
    for attempt in range(2):
        with socket.create_connection(("127.0.0.1", tls_stack.https_port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="a.test", session=saved) as tls:
                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
                reply = tls.recv(4096)
                assert reply.startswith(b"HTTP/1.1 200"), reply
                assert tls.session_reused == (attempt == 1)
                saved = tls.session


def test_wss_echo_through_the_dataplane(tls_stack):
    context = t.client_context(tls_stack.ca)
    raw = socket.create_connection(("127.0.0.1", tls_stack.https_port), timeout=5)
    with connect(f"wss://b.test:{tls_stack.https_port}/ws/echo", sock=raw, ssl=context, server_hostname="b.test",
                 open_timeout=5, close_timeout=2) as ws:
        for i in range(20):
            ws.send(f"secure {i}")
            assert ws.recv(timeout=5) == f"secure {i}"
        payload = bytes(range(256)) * 1024  # 256 KiB: many TLS records, more than any buffer
        ws.send(payload)
        assert ws.recv(timeout=5) == payload


def test_wss_with_a_chunk_buffer_smaller_than_a_tls_record(tls_stack):
    raw = socket.create_connection(("127.0.0.1", tls_stack.https_port), timeout=5)
    with connect(f"wss://tiny.wild.test:{tls_stack.https_port}/ws/echo", sock=raw, ssl=t.client_context(tls_stack.ca),
                 server_hostname="tiny.wild.test", open_timeout=5, close_timeout=2) as ws:
        for size in (10, 1000, 16 * 1024, 100 * 1024):
            payload = bytes(i % 251 for i in range(size))
            ws.send(payload)
            assert ws.recv(timeout=5) == payload
        # Idle, then more: the tunnel must wake up on new records after waiting on the socket.
        time.sleep(0.3)
        ws.send("after a pause")
        assert ws.recv(timeout=5) == "after a pause"


def test_wss_closing_handshake_ends_with_close_notify(tls_stack):
    """After the WebSocket closing handshake Pier ends the TLS connection with close_notify, so
    a TLS client reads a clean end of stream; a bare FIN is what a truncation attack looks like
    (Python's ssl raises SSLEOFError for it when ragged EOFs are not suppressed, Go's crypto/tls
    reports an unexpected EOF)."""
    context = t.client_context(tls_stack.ca)
    raw = socket.create_connection(("127.0.0.1", tls_stack.https_port), timeout=5)
    # suppress_ragged_eofs=False: a FIN without close_notify raises instead of reading as b"".
    with context.wrap_socket(raw, server_hostname="b.test", suppress_ragged_eofs=False) as sock:
        sock.sendall(b"GET /ws/echo HTTP/1.1\r\nHost: b.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
        assert received.startswith(b"HTTP/1.1 101"), received
        sock.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # close 1000, masked with a zero key
        rest = received.split(b"\r\n\r\n", 1)[1]
        try:
            while chunk := sock.recv(4096):
                rest += chunk
        except ssl.SSLEOFError as error:
            pytest.fail(f"the connection ended without close_notify ({error}); received {rest!r}")
        assert rest.startswith(b"\x88"), rest  # the backend's close frame, then close_notify


def test_sni_and_host_disagreeing_is_421(tls_stack):
    port, ca = tls_stack.https_port, tls_stack.ca
    mismatch = t.https_get(port, "b.test", "/healthz", ca, sni="a.test")
    assert mismatch.status == 421
    assert "does not cover host b.test" in mismatch.text
    # The wildcard certificate covers every one-label host under it.
    assert t.https_get(port, "y.wild.test", "/healthz", ca, sni="x.wild.test").status == 200
    # No SNI: the default certificate covers no TLS host.
    assert t.https_get(port, "a.test", "/healthz", None, sni=None).status == 421
    # A host without TLS reached through the default certificate is served.
    assert t.https_get(port, "plain.test", "/healthz", None, sni=None).status == 200
    assert t.https_get(port, "a.test", "/healthz", ca).status == 200


def test_tls_1_0_and_1_1_are_refused(tls_stack):
    port = tls_stack.https_port
    for version in ("-tls1", "-tls1_1"):
        # SECLEVEL=0 lets the client offer them at all, so the refusal is the server's.
        refused = t.s_client(port, "a.test", [version, "-cipher", "DEFAULT@SECLEVEL=0"])
        assert refused.returncode != 0, refused.stdout
        assert "BEGIN CERTIFICATE" not in refused.stdout
    for version, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        accepted = t.s_client(port, "a.test", [version])
        assert accepted.returncode == 0, accepted.stderr
        assert f"New, {name}, Cipher is" in accepted.stdout, accepted.stdout

    context = t.client_context(tls_stack.ca)
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            context.wrap_socket(raw, server_hostname="a.test").close()


def test_plain_http_to_a_tls_host_is_redirected(tls_stack):
    port = tls_stack.https_port
    response = request(tls_stack.http_port, "GET", "/some/path?x=1&y=2", headers={"Host": "a.test"})
    assert response.status == 308
    assert response.header("Location") == f"https://a.test:{port}/some/path?x=1&y=2"
    # The port of the Host header is the plain listener's: it is replaced, not kept.
    with_port = request(tls_stack.http_port, "GET", "/", headers={"Host": f"A.test:{tls_stack.http_port}"})
    assert with_port.header("Location") == f"https://a.test:{port}/"
    # force-ssl-redirect redirects a host without TLS too; without it a plain host is served.
    forced = request(tls_stack.http_port, "GET", "/healthz", headers={"Host": "force.test"})
    assert forced.status == 308
    assert forced.header("Location") == f"https://force.test:{port}/healthz"
    # A client's own X-Forwarded-Proto is not believed (no --trusted-proxies here).
    claimed = request(tls_stack.http_port, "GET", "/healthz", headers={"Host": "force.test",
                                                                       "X-Forwarded-Proto": "https"})
    assert claimed.status == 308
    assert request(tls_stack.http_port, "GET", "/healthz", headers={"Host": "plain.test"}).status == 200
    # ssl-redirect "false" keeps plain HTTP on a TLS host.
    assert request(tls_stack.http_port, "GET", "/healthz", headers={"Host": "optout.test"}).status == 200


def test_rotated_secret_is_served_within_two_seconds_while_wss_keeps_echoing(tls_stack):
    port, ca = tls_stack.https_port, tls_stack.ca
    before = t.presented_certificate(port, "rot.test")
    assert before.subject == cn("rot.test")

    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with connect(f"wss://rot.test:{port}/ws/echo", sock=raw, ssl=t.client_context(ca), server_hostname="rot.test",
                 open_timeout=5, close_timeout=2) as ws:
        sent = 0

        def echo() -> None:
            nonlocal sent
            ws.send(f"rot {sent}")
            assert ws.recv(timeout=5) == f"rot {sent}"
            sent += 1

        for _ in range(5):
            echo()
        rotated = t.issue(ca, tls_stack.certs, "rot.test", tag="-rotated")
        tls_stack.write_manifest("rot.yaml", rotation_manifest(rotated))
        started = time.monotonic()
        after = before
        while time.monotonic() - started < ROTATION_DEADLINE_S + 1:
            echo()  # the open tunnel keeps working during the swap
            after = t.presented_certificate(port, "rot.test")
            if after.fingerprint != before.fingerprint:
                break
        elapsed = time.monotonic() - started
        assert after.fingerprint != before.fingerprint, "the rotated certificate was never served"
        assert elapsed <= ROTATION_DEADLINE_S, f"rotation took {elapsed:.2f}s"
        assert after.subject == cn("rot.test")
        for _ in range(5):
            echo()
    # New connections verify against the new certificate (same CA, new key).
    assert t.https_get(port, "rot.test", "/healthz", ca).status == 200


def test_hsts_only_when_enabled_and_only_over_https(tls_stack):
    if not t.controller_has_tls_side():
        pytest.skip("this pier-controller has no hsts annotations yet (branch tlsctl)")
    secure = t.https_get(tls_stack.https_port, "hsts.test", "/healthz", tls_stack.ca)
    assert secure.status == 200
    assert secure.header("Strict-Transport-Security") == "max-age=600; includeSubDomains"
    plain = request(tls_stack.http_port, "GET", "/healthz", headers={"Host": "hsts.test"})
    assert plain.status == 200
    assert plain.header("Strict-Transport-Security") is None
    # A TLS host without the annotation gets no header.
    other = t.https_get(tls_stack.https_port, "a.test", "/healthz", tls_stack.ca)
    assert other.header("Strict-Transport-Security") is None


def broken_manifest(chain_pem: str, key_pem: str, marker: str) -> str:
    """broken.test's Secret and Ingress, plus a plain Ingress for `marker`: once the marker host
    is routed, the controller has processed this version of the file."""
    return m.render(t.tls_secret("broken-test", chain_pem, key_pem),
                    t.tls_ingress("broken-test", "broken.test", "chat", "broken-test"),
                    t.tls_ingress("marker", marker, "chat", None))


def test_broken_secret_keeps_the_last_good_certificate_and_other_hosts(tls_stack):
    if not t.controller_has_tls_side():
        pytest.skip("this pier-controller does not keep the last good certificate yet (branch tlsctl)")
    port = tls_stack.https_port
    good = t.issue(tls_stack.ca, tls_stack.certs, "broken.test")
    other = t.issue(tls_stack.ca, tls_stack.certs, "other.test")

    def apply(chain_pem: str, key_pem: str, marker: str) -> None:
        tls_stack.write_manifest("broken.yaml", broken_manifest(chain_pem, key_pem, marker))
        wait_until(lambda: request(tls_stack.http_port, "GET", "/healthz", headers={"Host": marker}).status == 200,
                   5, f"the controller to process the manifest with {marker}", alive=tls_stack.check_alive)

    apply(good.cert_pem, good.key_pem, "marker-1.test")
    served = t.presented_certificate(port, "broken.test")
    assert served.subject == cn("broken.test")
    broken_versions = {
        "garbage PEM": ("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n", good.key_pem),
        "key of another certificate": (good.cert_pem, other.key_pem),
    }
    for index, (what, (chain_pem, key_pem)) in enumerate(broken_versions.items(), start=2):
        apply(chain_pem, key_pem, f"marker-{index}.test")
        assert t.presented_certificate(port, "broken.test").fingerprint == served.fingerprint, what
        assert t.https_get(port, "broken.test", "/healthz", tls_stack.ca).status == 200, what
        for host in HOSTS:
            assert t.presented_certificate(port, host).subject == cn(host), what
    tls_stack.remove_manifest("broken.yaml")


def scrape(stack: PierStack) -> str:
    response = request(stack.admin_port, "GET", "/metrics")
    assert response.status == 200
    return response.text


def sample(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def handshakes(stack: PierStack) -> dict:
    text = scrape(stack)
    return {result: sample(text, "pier_tls_handshakes_total", f'result="{result}"')
            for result in ("ok", "unknown_sni_default", "protocol_version", "no_shared_cipher", "error")}


def test_handshake_metrics_count_each_result_exactly(tls_stack):
    port = tls_stack.https_port
    before = handshakes(tls_stack)
    for host in ("a.test", "x.wild.test"):
        assert t.s_client(port, host).returncode == 0
    assert t.s_client(port, "unknown.test").returncode == 0
    assert t.s_client(port, None).returncode == 0
    assert t.s_client(port, "a.test", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]).returncode != 0
    assert t.s_client(port, "a.test", ["-tls1_2", "-cipher", "AES128-SHA"]).returncode != 0  # no RSA kx offered
    after = wait_until(lambda: (lambda h: h if h["no_shared_cipher"] > before["no_shared_cipher"] else None)(
        handshakes(tls_stack)), 5, "the handshake counters")
    assert after["ok"] - before["ok"] == 2
    assert after["unknown_sni_default"] - before["unknown_sni_default"] == 2
    assert after["protocol_version"] - before["protocol_version"] == 1
    assert after["no_shared_cipher"] - before["no_shared_cipher"] == 1
    assert after["error"] == before["error"]


def test_https_connections_are_counted_on_their_listener(tls_stack):
    def active() -> float:
        return sample(scrape(tls_stack), "pier_connections_active", 'listener="https"')

    wait_until(lambda: active() == 0 or None, 5, "no HTTPS connection left open by earlier tests")
    with t.TlsConnection(tls_stack.https_port, "a.test", tls_stack.ca):
        wait_until(lambda: active() == 1 or None, 5, "pier_connections_active{listener=https} == 1")
    wait_until(lambda: active() == 0 or None, 5, "pier_connections_active{listener=https} back to 0")


def test_certificate_expiry_series_follow_the_secrets(tls_stack):
    text = scrape(tls_stack)
    for host in HOSTS:
        secret = "default/" + host.replace(".", "-")
        expected = t.not_after(tls_stack.pairs[host].cert)
        assert sample(text, "pier_tls_certificate_expiry_timestamp_seconds", f'secret="{secret}"') == expected
    assert 'secret="default/rot-test"' in text
    tls_stack.remove_manifest("rot.yaml")
    wait_until(lambda: 'secret="default/rot-test"' not in scrape(tls_stack) or None, 5,
               "the removed Secret's expiry series to go")
    assert t.presented_certificate(tls_stack.https_port, "rot.test").subject == DEFAULT_SUBJECT


def test_default_tls_secret_replaces_the_self_signed_certificate(stack, tmp_path):
    if not t.controller_has_tls_side():
        pytest.skip("this pier-controller has no --default-tls-secret yet (branch tlsctl)")
    ca = t.make_ca(tmp_path / "certs")
    fallback = t.issue(ca, tmp_path / "certs", "fallback.example")
    own = t.issue(ca, tmp_path / "certs", "own.test")
    backend = stack.start_backend("chat-default")
    stack.https_port = free_port()
    stack.controller_args = ["--default-tls-secret=default/fallback"]
    stack.write_manifest("default.yaml", m.render(
        m.ingress_class(), *m.service_with_backends("chat", [backend.port]),
        t.tls_secret("fallback", fallback.cert_pem, fallback.key_pem),
        t.tls_secret("own", own.cert_pem, own.key_pem),
        t.tls_ingress("own", "own.test", "chat", "own")))
    stack.start()
    wait_until(lambda: t.presented_certificate(stack.https_port, "own.test").subject == cn("own.test"), 10,
               "own.test's certificate", alive=stack.check_alive)
    for servername in ("unknown.test", None):
        assert t.presented_certificate(stack.https_port, servername).subject == cn("fallback.example"), servername


def test_redirect_port_flag_points_at_the_port_clients_use(stack, tmp_path):
    ca = t.make_ca(tmp_path / "certs")
    pair = t.issue(ca, tmp_path / "certs", "lb.test")
    backend = stack.start_backend("chat-lb")
    stack.https_port = free_port()
    stack.dataplane_args = ["--https-redirect-port", "443"]
    stack.write_manifest("lb.yaml", m.render(
        m.ingress_class(), *m.service_with_backends("chat", [backend.port]),
        t.tls_secret("lb", pair.cert_pem, pair.key_pem), t.tls_ingress("lb", "lb.test", "chat", "lb")))
    stack.start()
    response = wait_until(lambda: (lambda r: r if r.status == 308 else None)(
        request(stack.http_port, "GET", "/a?b=c", headers={"Host": "lb.test"})), 10, "the redirect for lb.test")
    assert response.header("Location") == "https://lb.test/a?b=c"
