"""default-backend: an Ingress whose Service has no ready endpoint (scaled to zero, or not
created yet) is served by the Service the annotation names instead of answering 503, and goes
back to its own Service as soon as that has a ready endpoint again; a default backend that has
no ready endpoint itself changes nothing (503)."""

from __future__ import annotations

import pytest

import manifests as m
from harness import free_port, wait_until
from rawhttp import request
from recorder import Recorder

KEY = "nginx.ingress.kubernetes.io/default-backend"
CUSTOM = "nginx.ingress.kubernetes.io/custom-http-errors"


@pytest.fixture
def backends():
    app, errors = Recorder(), Recorder()
    yield app, errors
    app.close()
    errors.close()


def write_app(stack, app_port):
    """Service `app` with one ready endpoint at app_port, or with none (scaled to zero)."""
    stack.write_manifest("app.yaml", m.render(m.service("app"), m.endpoint_slice("app-0", "app", app_port)))


def status_and_backend(stack, host: str, recorders: dict) -> tuple[int, str]:
    counts = {name: len(r.requests()) for name, r in recorders.items()}
    response = request(stack.http_port, "GET", "/page?x=1", headers={"Host": host})
    grown = [name for name, r in recorders.items() if len(r.requests()) > counts[name]]
    assert len(grown) <= 1, grown
    return response.status, grown[0] if grown else ""


def test_the_default_backend_serves_while_the_service_has_no_endpoint(stack, backends):
    app, errors = backends
    recorders = {"app": app, "errors": errors}
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("errors.yaml", m.render(*m.service_with_backends("errors", [errors.port]),
                                                 m.service("errors-down"),
                                                 m.endpoint_slice("errors-down-0", "errors-down", None)))
    write_app(stack, None)
    stack.write_manifest("ingresses.yaml", m.render(
        m.ingress("shop", [("/", "app")], {KEY: "errors"}, host="shop.test"),
        m.ingress("later", [("/", "not-yet")], {KEY: "errors"}, host="later.test"),
        m.ingress("plain", [("/", "app")], host="plain.test"),
        m.ingress("both-down", [("/", "app")], {KEY: "errors-down"}, host="down.test")))
    stack.start()

    assert status_and_backend(stack, "shop.test", recorders) == (200, "errors")
    assert errors.requests()[-1].target == "/page?x=1"  # the request as the client sent it
    assert status_and_backend(stack, "later.test", recorders) == (200, "errors")  # no such Service
    assert status_and_backend(stack, "plain.test", recorders) == (503, "")  # no annotation
    assert status_and_backend(stack, "down.test", recorders) == (503, "")  # nothing ready anywhere

    # Scaled up again: the Ingress' own Service takes its requests back.
    write_app(stack, app.port)
    wait_until(lambda: status_and_backend(stack, "shop.test", recorders) == (200, "app"), 10,
               "shop.test to reach its own Service again")
    assert status_and_backend(stack, "plain.test", recorders) == (200, "app")
    assert status_and_backend(stack, "down.test", recorders) == (200, "app")
    assert status_and_backend(stack, "later.test", recorders) == (200, "errors")


def app_answers(request) -> bytes:
    """The application: 404 for /missing, 503 for /down, 500 for /boom, else 200; each with a body."""
    path = request.target.split("?")[0]
    status = {"/missing": "404 Not Found", "/down": "503 Service Unavailable", "/boom": "500 Internal Server Error"}
    line = status.get(path, "200 OK")
    body = f"app {line}".encode()
    return b"HTTP/1.1 " + line.encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


def error_pages(request) -> bytes:
    """A custom error pages server as ingress-nginx documents one: the status is X-Code's."""
    code = request.header("X-Code") or "200"
    body = f"error page {code}".encode()
    return (b"HTTP/1.1 " + code.encode() + b" Custom\r\nContent-Type: text/plain\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n\r\n" + body)


def test_custom_http_errors_are_answered_by_the_default_backend(stack):
    app, errors = Recorder(app_answers), Recorder(error_pages)
    try:
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("services.yaml", m.render(
            *m.service_with_backends("app", [app.port]), *m.service_with_backends("errors", [errors.port]),
            m.service("errors-down"), m.endpoint_slice("errors-down-0", "errors-down", None)))
        stack.write_manifest("ingresses.yaml", m.render(
            m.ingress("shop", [("/", "app")], {KEY: "errors", CUSTOM: "404, 503"}, host="shop.test"),
            m.ingress("nopages", [("/", "app")], {KEY: "errors-down", CUSTOM: "404"}, host="nopages.test"),
            m.ingress("dead", [("/", "dead")], {KEY: "errors", CUSTOM: "502"}, host="dead.test")))
        stack.write_manifest("dead.yaml", m.render(*m.service_with_backends("dead", [free_port()])))  # refuses
        stack.start()

        response = request(stack.http_port, "GET", "/missing?q=1",
                           headers={"Host": "shop.test", "Accept": "text/html", "X-Code": "200",
                                    "X-Original-URI": "/forged"})
        assert (response.status, response.body) == (404, b"error page 404")
        asked = errors.requests()[-1]
        assert (asked.method, asked.target, asked.body) == ("GET", "/", b"")
        expected = {"X-Code": "404", "X-Format": "text/html", "X-Original-URI": "/missing?q=1",
                    "X-Namespace": "default", "X-Ingress-Name": "shop", "X-Service-Name": "app",
                    "X-Service-Port": "80", "X-Request-ID": app.requests()[-1].header("X-Request-ID")}
        assert {name: asked.header(name) for name in expected} == expected
        assert len([1 for name, _ in asked.headers if name.lower() == "x-code"]) == 1

        # A POST's body went to the application only; the error page is asked without one.
        response = request(stack.http_port, "POST", "/down", headers={"Host": "shop.test"}, body=b"payload")
        assert (response.status, response.body) == (503, b"error page 503")
        assert app.requests()[-1].body == b"payload"
        asked = errors.requests()[-1]
        assert (asked.method, asked.body, asked.header("Content-Length")) == ("GET", b"", None)

        response = request(stack.http_port, "HEAD", "/missing", headers={"Host": "shop.test"})
        assert (response.status, response.body) == (404, b"")
        assert errors.requests()[-1].method == "HEAD"

        # Statuses not listed, and every success, are the application's own.
        asked_before = len(errors.requests())
        assert request(stack.http_port, "GET", "/boom", headers={"Host": "shop.test"}).body == \
            b"app 500 Internal Server Error"
        assert request(stack.http_port, "GET", "/fine", headers={"Host": "shop.test"}).body == b"app 200 OK"
        # A default backend without a ready endpoint: the application's 404 stands.
        response = request(stack.http_port, "GET", "/missing", headers={"Host": "nopages.test"})
        assert (response.status, response.body) == (404, b"app 404 Not Found")
        assert len(errors.requests()) == asked_before

        # Pier's own 502 for a backend that refuses connections is replaced too, a POST included
        # (its body is not sent to the error pages).
        response = request(stack.http_port, "POST", "/order", headers={"Host": "dead.test"}, body=b"x" * 1000)
        assert (response.status, response.body) == (502, b"error page 502")
        asked = errors.requests()[-1]
        assert (asked.method, asked.body, asked.header("X-Code"), asked.header("X-Service-Name")) == \
            ("GET", b"", "502", "dead")

        # The access log and the metrics count what the client got, under the Ingress' route.
        metrics = request(stack.admin_port, "GET", "/metrics").text
        assert any(line.startswith("pier_http_requests_total") and 'ingress="shop"' in line and 'code="404"' in line
                   for line in metrics.splitlines()), metrics
    finally:
        app.close()
        errors.close()


def fallback_answers(request) -> bytes:
    """ingress-nginx's default backend: 404 for a request no Ingress serves; as error pages server,
    the status of X-Code."""
    code = request.header("X-Code")
    body = f"error page {code}".encode() if code else b"default backend - 404"
    return (b"HTTP/1.1 " + (code or "404").encode() + b" Fallback\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n\r\n" + body)


def test_the_controllers_default_backend_service_gets_what_no_ingress_serves(stack):
    app, fallback = Recorder(app_answers), Recorder(fallback_answers)
    recorders = {"app": app, "fallback": fallback}
    try:
        stack.controller_args = ["--default-backend-service", "default/fallback"]
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(*m.service_with_backends("app", [app.port])))
        stack.write_manifest("fallback.yaml", m.render(*m.service_with_backends("fallback", [fallback.port])))
        stack.write_manifest("ingresses.yaml", m.render(
            m.ingress("shop", [("/api", "app")], host="shop.test"),
            m.ingress("pages", [("/", "app")], {CUSTOM: "404"}, host="pages.test")))
        stack.start()

        def get(host: str, path: str) -> tuple[int, bytes, str]:
            counts = {name: len(r.requests()) for name, r in recorders.items()}
            response = request(stack.http_port, "GET", path, headers={"Host": host})
            grown = [name for name, r in recorders.items() if len(r.requests()) > counts[name]]
            return response.status, response.body, "+".join(grown)

        # A host no Ingress names, and a path no rule of a known host matches: the fallback's 404.
        assert get("unknown.test", "/x?y=1") == (404, b"default backend - 404", "fallback")
        assert fallback.requests()[-1].target == "/x?y=1"
        assert fallback.requests()[-1].header("Host") == "unknown.test"
        assert get("shop.test", "/other") == (404, b"default backend - 404", "fallback")
        assert get("shop.test", "/api/orders") == (200, b"app 200 OK", "app")
        # custom-http-errors without default-backend: the controller's default backend's page.
        assert get("pages.test", "/missing") == (404, b"error page 404", "app+fallback")
        asked = fallback.requests()[-1]
        assert (asked.header("X-Code"), asked.header("X-Ingress-Name"), asked.header("X-Service-Name")) == \
            ("404", "pages", "app")

        # Counted under the Service's namespace and no Ingress, as ingress-nginx counts its own.
        metrics = request(stack.admin_port, "GET", "/metrics").text
        assert any(line.startswith("pier_http_requests_total{") and 'ingress=""' in line and
                   'service="fallback"' in line and 'code="404"' in line for line in metrics.splitlines()), metrics

        # The Service gone: Pier's own 404 again, and the controller says why.
        stack.write_manifest("fallback.yaml", m.render(m.ingress_class()))
        wait_until(lambda: get("unknown.test", "/x")[2] == "", 10, "the default backend's routes to go")
        assert get("unknown.test", "/x")[0] == 404
        assert get("shop.test", "/other")[0] == 404
        assert get("pages.test", "/missing") == (404, b"app 404 Not Found", "app")
        wait_until(lambda: "default backend service default/fallback not found" in stack.controller.log_text(), 5,
                   "the controller's warning")
    finally:
        app.close()
        fallback.close()
