"""canary and the canary-* annotations: a canary Ingress for the same host and path takes the
requests its header, cookie and weight rules pick, with ingress-nginx's precedence (header, then
cookie, then weight); a canary without a main Ingress is not served, and the canary's requests
are counted under its own route."""

from __future__ import annotations

import pytest

import manifests as m
from harness import wait_until
from rawhttp import request
from recorder import Recorder

CANARY = "nginx.ingress.kubernetes.io/"


@pytest.fixture
def canary(stack):
    main, v2, heavy = Recorder(), Recorder(), Recorder()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("app", [main.port]),
        *m.service_with_backends("app-v2", [v2.port]),
        *m.service_with_backends("app-heavy", [heavy.port]),
        m.ingress("app", [("/", "app")], host="app.test"),
        m.ingress("app-canary", [("/", "app-v2")], {
            CANARY + "canary": "true", CANARY + "canary-by-header": "X-Canary",
            CANARY + "canary-by-cookie": "canary", CANARY + "canary-weight": "0"},
            host="app.test", creation_timestamp="2024-02-01T00:00:00Z"),
        m.ingress("split", [("/", "app")], host="split.test"),
        m.ingress("split-canary", [("/", "app-heavy")], {CANARY + "canary": "true", CANARY + "canary-weight": "30"},
                  host="split.test", creation_timestamp="2024-02-01T00:00:00Z"),
        m.ingress("orphan", [("/", "app-v2")], {CANARY + "canary": "true", CANARY + "canary-weight": "100"},
                  host="orphan.test")))
    stack.start()
    yield stack, main, v2, heavy
    for recorder in (main, v2, heavy):
        recorder.close()


def served_by(stack, recorders: dict, host: str, **headers) -> str:
    counts = {name: len(r.requests()) for name, r in recorders.items()}
    response = request(stack.http_port, "GET", "/x", headers={"Host": host, **headers})
    assert response.status == 200, (response.status, response.text)
    grown = [name for name, r in recorders.items() if len(r.requests()) > counts[name]]
    assert len(grown) == 1, grown
    return grown[0]


def test_header_then_cookie_pick_the_canary(canary):
    stack, main, v2, _ = canary
    backends = {"main": main, "v2": v2}
    assert served_by(stack, backends, "app.test") == "main"  # weight 0
    assert served_by(stack, backends, "app.test", **{"X-Canary": "always"}) == "v2"
    assert served_by(stack, backends, "app.test", **{"X-Canary": "never", "Cookie": "canary=always"}) == "main"
    assert served_by(stack, backends, "app.test", Cookie="a=1; canary=always") == "v2"
    assert served_by(stack, backends, "app.test", **{"X-Canary": "other", "Cookie": "canary=always"}) == "v2"
    assert served_by(stack, backends, "app.test", Cookie="canary=never") == "main"


def test_the_weight_splits_requests(canary):
    stack, main, _, heavy = canary
    picks = [served_by(stack, {"main": main, "heavy": heavy}, "split.test") for _ in range(300)]
    share = picks.count("heavy") / len(picks)
    # 30 % of 300: the binomial's standard deviation is 2.6 points; 12 to 48 % is ~7 of them.
    assert 0.12 < share < 0.48, share


def test_a_canary_without_a_main_is_not_served(canary):
    stack, _, v2, _ = canary
    assert request(stack.http_port, "GET", "/x", headers={"Host": "orphan.test"}).status == 404
    assert v2.requests() == []
    wait_until(lambda: "CanaryWithoutMain" in stack.controller.log_text(), 10, "the CanaryWithoutMain warning")


def test_canary_requests_count_under_the_canary_route(canary):
    stack, main, v2, _ = canary
    # The main Ingress' series and the canary's are apart: (namespace, ingress, service) labels.
    for _ in range(3):
        served_by(stack, {"main": main, "v2": v2}, "app.test", **{"X-Canary": "always"})
    metrics = request(stack.admin_port, "GET", "/metrics").text
    lines = [line for line in metrics.splitlines()
             if line.startswith("pier_http_requests_total") and 'ingress="app-canary"' in line]
    assert lines and sum(float(line.rsplit(" ", 1)[1]) for line in lines) == 3, lines
