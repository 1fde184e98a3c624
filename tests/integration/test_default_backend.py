"""default-backend: an Ingress whose Service has no ready endpoint (scaled to zero, or not
created yet) is served by the Service the annotation names instead of answering 503, and goes
back to its own Service as soon as that has a ready endpoint again; a default backend that has
no ready endpoint itself changes nothing (503)."""

from __future__ import annotations

import pytest

import manifests as m
from harness import wait_until
from rawhttp import request
from recorder import Recorder

KEY = "nginx.ingress.kubernetes.io/default-backend"


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
