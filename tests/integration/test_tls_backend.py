"""backend-protocol HTTPS: the dataplane speaks TLS to the upstream, verifying it with a CA from
a Secret (proxy-ssl-secret) or not at all, and WebSocket upgrades work over it too. The backend
is a Python TLS server (websockets) that answers plain GETs and echoes WebSocket messages."""

from __future__ import annotations

import socket

import pytest
from websockets.sync.client import connect

import manifests as m
import tlsutil as t
from harness import PierStack
from rawhttp import request
from wsutil import EchoServer

BACKEND_REPLY = "secure backend\n"


@pytest.fixture(scope="module")
def backend_stack(module_launcher, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tls-backend")
    certs = workdir / "certs"
    stack = PierStack(module_launcher, workdir)
    good_ca = t.make_ca(certs, "Backend CA")
    other_ca = t.make_ca(certs, "Other CA")
    # The name the dataplane checks by default: the Service's DNS name.
    backend_pair = t.issue(good_ca, certs, "secure.default.svc", dns_names=["secure.default.svc", "alias.internal"])
    server = EchoServer(ssl_context=t.server_context(backend_pair), http_reply=BACKEND_REPLY)
    https = {"pier.dev/backend-protocol": "HTTPS"}
    stack.write_manifest("backend.yaml", m.render(
        m.ingress_class(),
        *m.service_with_backends("secure", [server.port]),
        t.ca_secret("good-ca", good_ca.cert_pem),
        t.ca_secret("other-ca", other_ca.cert_pem),
        m.ingress("insecure", [("/", "secure")], https, host="insecure.test"),
        m.ingress("verified", [("/", "secure")], {**https, "pier.dev/proxy-ssl-secret": "default/good-ca"},
                  host="verified.test"),
        m.ingress("renamed", [("/", "secure")], {**https, "pier.dev/proxy-ssl-secret": "default/good-ca",
                                                 "pier.dev/proxy-ssl-name": "alias.internal"}, host="renamed.test"),
        m.ingress("wrong-name", [("/", "secure")], {**https, "pier.dev/proxy-ssl-secret": "default/good-ca",
                                                    "pier.dev/proxy-ssl-name": "nope.internal"},
                  host="wrong-name.test"),
        m.ingress("wrong-ca", [("/", "secure")], {**https, "pier.dev/proxy-ssl-secret": "default/other-ca"},
                  host="wrong-ca.test"),
        m.ingress("verify-off", [("/", "secure")], {**https, "pier.dev/proxy-ssl-secret": "default/other-ca",
                                                    "pier.dev/proxy-ssl-verify": "off"}, host="verify-off.test"),
    ))
    stack.start()
    yield stack
    server.close()


def get(stack: PierStack, host: str):
    return request(stack.http_port, "GET", "/hello", headers={"Host": host})


def test_https_backend_without_verification(backend_stack):
    response = get(backend_stack, "insecure.test")
    assert response.status == 200, response.text
    assert response.text == BACKEND_REPLY


def test_websocket_upgrade_to_an_https_backend(backend_stack):
    raw = socket.create_connection(("127.0.0.1", backend_stack.http_port), timeout=5)
    with connect("ws://insecure.test/ws", sock=raw, open_timeout=5, close_timeout=2) as ws:
        for i in range(10):
            ws.send(f"to tls backend {i}")
            assert ws.recv(timeout=5) == f"to tls backend {i}"
        payload = b"\x01" * (100 * 1024)
        ws.send(payload)
        assert ws.recv(timeout=5) == payload


@pytest.fixture
def controller_tls(backend_stack):
    if not t.controller_has_tls_side():
        pytest.skip("this pier-controller has no proxy-ssl-* annotations yet (branch tlsctl)")
    return backend_stack


def test_verified_backend_with_the_right_ca(controller_tls):
    response = get(controller_tls, "verified.test")
    assert response.status == 200, response.text
    assert response.text == BACKEND_REPLY
    assert get(controller_tls, "renamed.test").status == 200


def test_verification_failures_are_502_with_the_reason(controller_tls):
    wrong_ca = get(controller_tls, "wrong-ca.test")
    assert wrong_ca.status == 502
    assert "upstream TLS certificate not trusted for secure.default.svc" in wrong_ca.text, wrong_ca.text
    wrong_name = get(controller_tls, "wrong-name.test")
    assert wrong_name.status == 502
    assert "not trusted for nope.internal" in wrong_name.text, wrong_name.text


def test_verify_off_accepts_any_certificate(controller_tls):
    response = get(controller_tls, "verify-off.test")
    assert response.status == 200, response.text
