"""Each error the dataplane produces itself, caused on purpose: the response comes from Pier (no
X-Backend header) with a one-line reason."""

import time

import pytest


def assert_from_pier(response, status):
    assert response.status == status, response.text
    assert response.header("x-backend") is None, "answered by a backend, not by the proxy"
    assert response.body.strip(), "error responses carry a reason"
    assert response.body.count(b"\n") <= 1, response.text


def test_404_when_no_route_matches(proxy):
    assert_from_pier(proxy.get("/no/such/route"), 404)
    # Prefix matching is by path element: /headersX is not under /headers.
    assert_from_pier(proxy.get("/headersX"), 404)


def test_503_when_the_service_has_no_endpoints(proxy):
    assert_from_pier(proxy.get("/empty"), 503)


def test_502_when_the_upstream_refuses(proxy):
    assert_from_pier(proxy.get("/refused"), 502)


@pytest.mark.timeout(30)
def test_504_when_the_upstream_connect_times_out(proxy):
    started = time.monotonic()
    response = proxy.get("/blackhole", timeout=10)
    elapsed = time.monotonic() - started
    assert_from_pier(response, 504)
    # proxy-connect-timeout is 200ms: well below the 5s default, and not instant.
    assert 0.15 <= elapsed < 2.5, f"took {elapsed:.2f}s"
