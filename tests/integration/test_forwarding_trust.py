"""Who the client is, as the backend is told: X-Forwarded-For is always appended to, believed
only from --trusted-proxies (rightmost untrusted entry), RFC 7239 Forwarded is removed when it
comes from an untrusted peer, and X-Request-ID is passed on or generated."""

from __future__ import annotations

import re

import pytest

import manifests as m
from recorder import Recorder
from rawhttp import request


@pytest.fixture
def recorded(stack):
    recorder = Recorder()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.catch_all("recorder", [recorder.port]))
    yield stack, recorder
    recorder.close()


def last_headers(recorder: Recorder) -> dict:
    return {k.lower(): v for k, v in recorder.requests()[-1].headers}


def test_untrusted_peer(recorded):
    stack, recorder = recorded
    stack.start()
    request(stack.http_port, "GET", "/", headers={"X-Forwarded-For": "203.0.113.7",
                                                  "Forwarded": "for=203.0.113.7;proto=https",
                                                  "X-Request-ID": "client-chosen-id-1"})
    seen = last_headers(recorder)
    assert seen["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert seen["x-real-ip"] == "127.0.0.1"
    assert "forwarded" not in seen
    assert seen["x-request-id"] == "client-chosen-id-1"

    request(stack.http_port, "GET", "/")
    generated = last_headers(recorder)["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_trusted_peer_rightmost_untrusted_entry_is_the_client(recorded):
    stack, recorder = recorded
    stack.dataplane_args = ["--trusted-proxies", "127.0.0.0/8,10.0.0.0/8"]
    stack.start()
    request(stack.http_port, "GET", "/", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.1.2.3",
                                                  "Forwarded": "for=10.1.2.3"})
    seen = last_headers(recorder)
    # 10.1.2.3 and the peer are trusted hops; 203.0.113.7 is the first one nobody vouches for.
    assert seen["x-real-ip"] == "203.0.113.7"
    assert seen["x-forwarded-for"] == "198.51.100.1, 203.0.113.7, 10.1.2.3, 127.0.0.1"
    assert seen["forwarded"] == "for=10.1.2.3"  # a trusted proxy's header passes unchanged


def test_trusted_proxys_scheme_decides_redirects_and_forwarded_proto(stack):
    """A load balancer that ends TLS in front of Pier (and is in --trusted-proxies) says which
    scheme the client used: force-ssl-redirect must not send an https client to https again
    (a redirect loop), the backend hears https, and the affinity cookie is Secure for https
    clients only."""
    recorder = Recorder()
    try:
        stack.dataplane_args = ["--trusted-proxies", "127.0.0.0/8"]
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(
            *m.service_with_backends("recorder", [recorder.port]),
            m.ingress("app", [("/", "recorder")], {"pier.dev/force-ssl-redirect": "true", "pier.dev/affinity": "cookie"},
                      host="app.test"),
            m.ingress("plain", [("/", "recorder")], {"pier.dev/affinity": "cookie"}, host="plain.test")))
        stack.start()  # no HTTPS listener of its own: the proxy in front has it

        served = request(stack.http_port, "GET", "/x", headers={"Host": "app.test", "X-Forwarded-Proto": "https"})
        assert served.status == 200
        assert last_headers(recorder)["x-forwarded-proto"] == "https"
        assert "; Secure;" in served.header("Set-Cookie")

        # The client used plain http at the proxy: redirected to the proxy's https port (443).
        plain = request(stack.http_port, "GET", "/x?y=1", headers={"Host": "app.test", "X-Forwarded-Proto": "http"})
        assert plain.status == 308
        assert plain.header("Location") == "https://app.test/x?y=1"
        # The nearest proxy's element counts, not a client's forged first one.
        appended = request(stack.http_port, "GET", "/", headers={"Host": "app.test",
                                                                 "X-Forwarded-Proto": "https, http"})
        assert appended.status == 308
        assert len(recorder.requests()) == 1

        # Plain http at the proxy, on a host that does not redirect: served, cookie not Secure.
        plain_host = request(stack.http_port, "GET", "/", headers={"Host": "plain.test", "X-Forwarded-Proto": "http"})
        assert plain_host.status == 200
        assert last_headers(recorder)["x-forwarded-proto"] == "http"
        assert plain_host.header("Set-Cookie").startswith("PIER_AFFINITY=")
        assert "Secure" not in plain_host.header("Set-Cookie")
    finally:
        recorder.close()
