"""A deleted Ingress' series leave /metrics: exported with their last values, then removed, so
a long-running dataplane neither grows with every Ingress it ever served nor shows stale
series. A WebSocket still open on the deleted route keeps its route's series (and stays open)
until it ends, and an Ingress that still exists keeps its series however idle it is."""

from __future__ import annotations

import time

import pytest
from websockets.sync.client import connect

import manifests as m
from harness import PierStack, wait_until
from promtext import samples
from rawhttp import request
from recorder import Recorder
from wsutil import EchoServer

# The worker's housekeeping runs every 10 s and removal takes two scrapes after it.
GONE_TIMEOUT_S = 30.0
POLL_S = 0.5
FAMILIES = ("pier_http_requests_total", "pier_http_request_duration_seconds_count",
            "pier_upstream_errors_total", "pier_websocket_upgrades_total",
            "pier_websocket_connections_active", "pier_websocket_messages_total")


@pytest.fixture
def lifecycle_stack(stack):
    echo = EchoServer()
    recorder = Recorder()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("services.yaml", m.render(
        *m.service_with_backends("http", [recorder.port]), *m.service_with_backends("ws", [echo.port])))
    stack.write_manifest("keep.yaml", m.render(m.ingress("keep", [("/keep", "http")])))
    stack.write_manifest("idle.yaml", m.render(m.ingress("idle", [("/idle", "http")])))
    stack.write_manifest("gone.yaml", m.render(m.ingress("gone", [("/gone", "http")])))
    stack.write_manifest("tunnel.yaml", m.render(m.ingress("tunnel", [("/tunnel/", "ws")])))
    stack.start()
    yield stack
    echo.close()
    recorder.close()


def series_of(stack: PierStack, ingress: str) -> dict[str, list[tuple[dict, float]]]:
    """The samples of each contract family labelled with `ingress` (one scrape)."""
    text = request(stack.admin_port, "GET", "/metrics").text
    return {name: [(labels, value) for labels, value in samples(text, name) if labels.get("ingress") == ingress]
            for name in FAMILIES}


def wait_for_removal(stack: PierStack, ingress: str, also=lambda: None) -> None:
    """Scrapes (sending a request on a new connection each time, so every worker thread sees
    traffic) until no family has a series of `ingress`; `also` runs on every round."""
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while True:
        assert stack.get("/keep").status == 200
        also()
        left = {name: found for name, found in series_of(stack, ingress).items() if found}
        if not left:
            return
        assert time.monotonic() < deadline, f"series of {ingress} still exported: {left}"
        time.sleep(POLL_S)


def test_deleted_ingress_series_are_removed_and_open_tunnels_keep_theirs(lifecycle_stack):
    stack = lifecycle_stack
    assert stack.get("/keep").status == 200
    assert stack.get("/gone").status == 200
    assert stack.get("/idle").status == 200  # and never again
    with connect(stack.url("/tunnel/chat", scheme="ws"), open_timeout=5) as ws:
        ws.send("before")
        assert ws.recv(timeout=5) == "before"
        before = series_of(stack, "gone")
        assert [v for labels, v in before["pier_http_requests_total"] if labels["code"] == "200"] == [1.0]
        assert all(before[name] for name in FAMILIES), before
        assert [v for _, v in series_of(stack, "tunnel")["pier_websocket_connections_active"]] == [1.0]

        stack.remove_manifest("gone.yaml")
        stack.remove_manifest("tunnel.yaml")
        wait_until(lambda: stack.get("/gone").status == 404, 15, "the deleted Ingress' route to go")
        wait_until(lambda: request(stack.http_port, "GET", "/tunnel/x").status == 404, 15,
                   "the deleted tunnel Ingress' route to go")

        def tunnel_still_counted():
            active = [v for _, v in series_of(stack, "tunnel")["pier_websocket_connections_active"]]
            assert active == [1.0], f"the open tunnel's gauge: {active}"

        wait_for_removal(stack, "gone", also=tunnel_still_counted)
        # The config change did not touch the open tunnel.
        ws.send("after")
        assert ws.recv(timeout=5) == "after"
        tunnel = series_of(stack, "tunnel")
        assert sum(v for labels, v in tunnel["pier_websocket_messages_total"] if labels["direction"] == "in") == 2

    wait_for_removal(stack, "tunnel")
    # The routes that stayed keep their series and counts, the idle one too (the deletion
    # rebuilt every route of the catch-all host, so its old route object was dropped meanwhile).
    keep = series_of(stack, "keep")
    assert sum(v for labels, v in keep["pier_http_requests_total"] if labels["code"] == "200") >= 3
    idle = series_of(stack, "idle")
    assert [v for labels, v in idle["pier_http_requests_total"] if labels["code"] == "200"] == [1.0], idle
    stack.check_alive()
