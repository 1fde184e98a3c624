"""enable-cors and the cors-* annotations: an allowed Origin gets Access-Control-* headers on the
backend's responses and on Pier's own, its preflight is answered 204 by Pier after access rules
and without reaching the backend, an Origin not listed gets nothing, and an invalid cors-* value
turns CORS off instead of falling back to "any Origin"."""

from __future__ import annotations

import pytest

import manifests as m
from rawhttp import Connection, format_request, request
from recorder import Recorder, RecordedRequest

APP = "https://app.example.com"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-token"}


def backend_with_own_cors(req: RecordedRequest) -> bytes:
    # A backend that already sends CORS headers of its own, and a Vary.
    body = req.method.encode()
    return (b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nVary: Accept-Encoding\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


@pytest.fixture
def cors(stack):
    recorder = Recorder(respond=backend_with_own_cors)
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    listed = {"nginx.ingress.kubernetes.io/enable-cors": "true",
              "nginx.ingress.kubernetes.io/cors-allow-origin": f"{APP}, https://*.example.org",
              "nginx.ingress.kubernetes.io/cors-allow-headers": "X-Token, Content-Type",
              "nginx.ingress.kubernetes.io/cors-expose-headers": "X-Total",
              "nginx.ingress.kubernetes.io/cors-max-age": "600"}
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("recorder", [recorder.port]),
        m.ingress("listed", [("/", "recorder")], listed, host="listed.test"),
        m.ingress("any", [("/", "recorder")], {"pier.dev/enable-cors": "true",
                                               "pier.dev/cors-allow-credentials": "false"}, host="any.test"),
        # 127.0.0.1 is not allowed: the preflight is refused like any other request.
        m.ingress("guarded", [("/", "recorder")], {**listed, "pier.dev/allowlist-source-range": "10.0.0.0/8"},
                  host="guarded.test"),
        m.ingress("bad", [("/", "recorder")], {"pier.dev/enable-cors": "true",
                                               "pier.dev/cors-allow-origin": f"{APP}/path"}, host="bad.test")))
    stack.start()
    yield stack, recorder
    recorder.close()


def call(stack, host: str, method: str = "GET", **headers):
    return request(stack.http_port, method, "/api", headers={"Host": host, **headers})


def test_a_preflight_is_answered_by_pier(cors):
    stack, recorder = cors
    response = call(stack, "listed.test", "OPTIONS", Origin=APP, **PREFLIGHT)
    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") == APP
    assert response.header("Access-Control-Allow-Credentials") == "true"
    assert response.header("Access-Control-Allow-Methods") == "GET, PUT, POST, DELETE, PATCH, OPTIONS"
    assert response.header("Access-Control-Allow-Headers") == "X-Token, Content-Type"
    assert response.header("Access-Control-Max-Age") == "600"
    assert response.header("Vary") == "Origin"
    assert response.header("Content-Length") is None
    assert recorder.requests() == []

    # A wildcard entry covers one label; the Origin is echoed exactly as the browser sent it.
    sub = call(stack, "listed.test", "OPTIONS", Origin="https://Shop.Example.org", **PREFLIGHT)
    assert sub.status == 204
    assert sub.header("Access-Control-Allow-Origin") == "https://Shop.Example.org"


def test_the_backends_responses_get_the_headers(cors):
    stack, recorder = cors
    response = call(stack, "listed.test", "GET", Origin=APP)
    assert response.status == 200 and response.body == b"GET"
    assert [v for k, v in response.headers if k.lower() == "access-control-allow-origin"] == [APP]
    assert response.header("Access-Control-Allow-Credentials") == "true"
    assert response.header("Access-Control-Expose-Headers") == "X-Total"
    assert response.header("Access-Control-Allow-Methods") is None  # preflight only
    assert sorted(v for k, v in response.headers if k.lower() == "vary") == ["Accept-Encoding", "Origin"]
    assert recorder.requests()[-1].header("Origin") == APP  # the backend still sees it


def test_an_origin_not_listed_gets_nothing_from_pier(cors):
    stack, recorder = cors
    for origin in ("https://evil.example", "https://a.b.example.org", "null", f"{APP}.evil.example"):
        response = call(stack, "listed.test", "GET", Origin=origin)
        assert response.status == 200
        # The backend's own header passes through; Pier adds no credentials and no echo.
        assert response.header("Access-Control-Allow-Origin") == "*", origin
        assert response.header("Access-Control-Allow-Credentials") is None, origin
        assert "Origin" in [v for k, v in response.headers if k.lower() == "vary"], origin
    # Its preflight is not Pier's to answer: the backend gets it.
    preflight = call(stack, "listed.test", "OPTIONS", Origin="https://evil.example", **PREFLIGHT)
    assert preflight.status == 200 and preflight.body == b"OPTIONS"
    assert recorder.requests()[-1].method == "OPTIONS"


def test_any_origin_is_a_star(cors):
    stack, _ = cors
    for headers in ({"Origin": "https://whoever.test"}, {}):
        response = call(stack, "any.test", "GET", **headers)
        assert response.header("Access-Control-Allow-Origin") == "*"
        assert response.header("Access-Control-Allow-Credentials") is None
        assert response.header("Vary") == "Accept-Encoding"
    assert call(stack, "any.test", "OPTIONS", Origin="https://whoever.test", **PREFLIGHT).status == 204


def test_access_rules_come_before_the_preflight_and_refusals_carry_the_headers(cors):
    stack, recorder = cors
    response = call(stack, "guarded.test", "OPTIONS", Origin=APP, **PREFLIGHT)
    assert response.status == 403
    # The page's script can read why.
    assert response.header("Access-Control-Allow-Origin") == APP
    assert recorder.requests() == []


def test_an_invalid_cors_value_turns_cors_off(cors):
    stack, recorder = cors
    response = call(stack, "bad.test", "GET", Origin=APP)
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == "*"  # the backend's, not Pier's
    assert response.header("Access-Control-Allow-Credentials") is None
    preflight = call(stack, "bad.test", "OPTIONS", Origin=APP, **PREFLIGHT)
    assert preflight.status == 200  # the backend's answer
    assert "cors-allow-origin" in stack.controller.log_text()


def test_a_preflight_keeps_the_connection(cors):
    stack, _ = cors
    with Connection(stack.http_port) as connection:
        connection.send(format_request("OPTIONS", "/api", {"Origin": APP, **PREFLIGHT}, host="listed.test"))
        assert connection.read_response("OPTIONS").status == 204
        connection.send(format_request("GET", "/api", {"Origin": APP, "Connection": "close"}, host="listed.test"))
        second = connection.read_response()
        assert second.status == 200 and second.body == b"GET"
