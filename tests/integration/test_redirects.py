"""permanent-redirect, temporal-redirect (and their -code keys), app-root and from-to-www-redirect:
the route answers the redirect itself, with a trailing $request_uri as the only variable, and no
backend needed."""

from __future__ import annotations

import pytest

import manifests as m
from rawhttp import request
from recorder import Recorder


@pytest.fixture
def redirects(stack):
    recorder = Recorder()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("recorder", [recorder.port]),
        # "gone" has no Service: a redirect does not need one.
        m.ingress("moved", [("/", "gone")], {
            "nginx.ingress.kubernetes.io/permanent-redirect": "https://new.example$request_uri"}, host="moved.test"),
        m.ingress("temp", [("/", "recorder")], {"pier.dev/temporal-redirect": "/elsewhere",
                                                "pier.dev/temporal-redirect-code": "307"}, host="temp.test"),
        m.ingress("root", [("/", "recorder")], {"pier.dev/app-root": "/app"}, host="root.test"),
        m.ingress("bad", [("/", "recorder")], {"pier.dev/permanent-redirect": "https://$host/"}, host="bad.test"),
        m.ingress("www", [("/", "recorder")], {"nginx.ingress.kubernetes.io/from-to-www-redirect": "true"},
                  host="www.site.test")))
    stack.start()
    yield stack, recorder
    recorder.close()


def get(stack, host: str, target: str, **kwargs):
    return request(stack.http_port, kwargs.pop("method", "GET"), target, headers={"Host": host, **kwargs.pop("headers", {})},
                   **kwargs)


def test_permanent_redirect_appends_the_request_uri_without_a_backend(redirects):
    stack, recorder = redirects
    response = get(stack, "moved.test", "/a/b?c=1&d=%2F")
    assert response.status == 301
    assert response.header("Location") == "https://new.example/a/b?c=1&d=%2F"
    # A WebSocket upgrade is redirected too, not tunnelled.
    upgrade = get(stack, "moved.test", "/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                                       "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                                       "Sec-WebSocket-Version": "13"})
    assert upgrade.status == 301
    assert upgrade.header("Location") == "https://new.example/ws"
    assert recorder.requests() == []


def test_temporal_redirect_with_its_code(redirects):
    stack, recorder = redirects
    response = get(stack, "temp.test", "/x?y=1", method="POST", body=b"payload")
    assert response.status == 307
    assert response.header("Location") == "/elsewhere"
    assert recorder.requests() == []


def test_app_root_redirects_only_the_root(redirects):
    stack, recorder = redirects
    for target in ("/", "/?tab=2"):
        response = get(stack, "root.test", target)
        assert response.status == 302
        assert response.header("Location") == "/app"
    assert get(stack, "root.test", "/app").status == 200
    assert get(stack, "root.test", "/other").status == 200
    assert [r.target for r in recorder.requests()] == ["/app", "/other"]


def test_an_nginx_variable_is_refused_and_the_route_proxies(redirects):
    stack, recorder = redirects
    response = get(stack, "bad.test", "/")
    assert response.status == 200
    assert response.header("Location") is None
    assert len(recorder.requests()) == 1


def test_from_to_www_redirect_sends_the_bare_name_to_the_rule_host(redirects):
    stack, recorder = redirects
    response = get(stack, "site.test", "/shop/cart?item=7")
    assert response.status == 308
    assert response.header("Location") == "http://www.site.test/shop/cart?item=7"
    assert recorder.requests() == []
    # The rule host itself is proxied as usual.
    assert get(stack, "www.site.test", "/shop").status == 200
    assert recorder.requests()[-1].target == "/shop"
