"""Upstream keep-alive connections the upstream closes while they wait in Pier's pool.

The upstream here answers with a keep-alive response and closes the connection right after it,
as a server with a very short keep-alive timeout does. The next request comes 10 ms later: the
upstream's FIN has arrived by then, but the pool's readiness watch (which starts up to 50 ms
after a connection is parked) has not seen it yet, so only the request path can notice.

- A request without a body may be taken on such a connection without a check; when the first
  write or read fails it is sent once more on a fresh connection. The client sees every answer,
  and the upstream sees every request exactly once.
- A request with a body cannot be sent twice (the body was streamed from the client), so the
  pool checks the socket before handing it out and a closed connection is never used for it.
"""

from __future__ import annotations

import time

import pytest

import manifests as m
from harness import PierStack
from promtext import metric
from rawhttp import Connection, format_request
from recorder import Recorder

REQUESTS = 20
GAP_S = 0.01  # the upstream's FIN arrives; the pool's watch (50 ms) has not run


@pytest.fixture(scope="module")
def closing_upstream(module_launcher, tmp_path_factory):
    recorder = Recorder(close_after_response=True)
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("upstream-reuse"))
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("apps.yaml", m.catch_all("recorder", [recorder.port]))
    stack.start()
    yield stack, recorder
    recorder.close()


def _send_all(stack: PierStack, method: str, prefix: str, body_of=lambda i: b"") -> list:
    statuses = []
    with Connection(stack.http_port) as connection:
        for i in range(REQUESTS):
            connection.send(format_request(method, f"/{prefix}/{i}", host="app.test", body=body_of(i)))
            response = connection.read_response(method)
            statuses.append((response.status, response.text[:200]))
            time.sleep(GAP_S)
    return statuses


def _retries_and_errors(stack: PierStack) -> tuple[float, float]:
    """Stale-connection retries and upstream errors of the recorder's route (0 before its first
    request: the series appear with the route's first use)."""
    def value(name: str, **labels: str) -> float:
        try:
            return metric(stack.admin_port, name, service="recorder", **labels)
        except KeyError:
            return 0.0
    return value("pier_upstream_retries_total", reason="stale_connection"), value("pier_upstream_errors_total")


def test_bodyless_requests_on_closed_connections_are_sent_again_once(closing_upstream):
    stack, recorder = closing_upstream
    retries_before, errors_before = _retries_and_errors(stack)
    statuses = _send_all(stack, "GET", "get")
    assert [status for status, _ in statuses] == [200] * REQUESTS, statuses
    seen = [r.target for r in recorder.requests() if r.target.startswith("/get/")]
    assert seen == [f"/get/{i}" for i in range(REQUESTS)]
    # Operators see the retries, and they are not upstream errors: every request was answered.
    # Only a reused connection can be stale, so the first request of the run cannot retry.
    retries, errors = _retries_and_errors(stack)
    assert 1 <= retries - retries_before <= REQUESTS - 1
    assert errors == errors_before


def test_requests_with_a_body_never_go_out_on_a_closed_connection(closing_upstream):
    stack, recorder = closing_upstream
    retries_before, errors_before = _retries_and_errors(stack)
    statuses = _send_all(stack, "POST", "post", body_of=lambda i: f"body {i}".encode())
    assert [status for status, _ in statuses] == [200] * REQUESTS, statuses
    seen = [(r.target, r.body) for r in recorder.requests() if r.target.startswith("/post/")]
    assert seen == [(f"/post/{i}", f"body {i}".encode()) for i in range(REQUESTS)]
    assert _retries_and_errors(stack) == (retries_before, errors_before)
