"""The dataplane's /metrics after real traffic: valid Prometheus exposition (promtool) and the
contract's series present with their labels.

Uses the shared `proxy` stack, so counts are checked as lower bounds: other tests add to them.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from websockets.sync.client import connect

from rawhttp import request


def scrape(proxy) -> str:
    response = request(proxy.admin_port, "GET", "/metrics")
    assert response.status == 200
    return response.text


def sample(text: str, name: str, **labels: str) -> float:
    """Sum of every sample of `name` whose labels include `labels`."""
    total, found = 0.0, False
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:{{(.*)}})? (\S+)$", line)
        if not match:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
            found = True
    assert found, f"no sample of {name} with {labels}"
    return total


def test_metrics_after_traffic_pass_promtool_and_carry_the_contract(proxy):
    assert proxy.get("/headers").status == 200
    assert proxy.get("/no-such-route").status == 404
    assert proxy.get("/empty").status == 503
    with connect(proxy.url("/ws/echo", scheme="ws"), open_timeout=5) as ws:
        ws.send("ping")
        assert ws.recv(timeout=5) == "ping"

    text = scrape(proxy)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stdout + result.stderr

    assert sample(text, "pier_http_requests_total", code="200", method="GET", ingress="chat") >= 1
    assert sample(text, "pier_http_requests_total", code="404") >= 1
    assert sample(text, "pier_http_requests_total", code="503", ingress="errors") >= 1
    assert sample(text, "pier_websocket_upgrades_total", result="tunnelled") >= 1
    assert sample(text, "pier_http_request_duration_seconds_count") >= 3
    assert sample(text, "pier_config_version") >= 1
    assert sample(text, "pier_config_applies_total", result="success") >= 1
    assert sample(text, "pier_build_info") == 1
    # Bounded labels only: no series is labelled with a path or a client address.
    assert "/headers" not in text and "127.0.0.1" not in text
