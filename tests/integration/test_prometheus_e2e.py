"""A real Prometheus server scrapes the dataplane and the controller; after a scripted workload
its HTTP API must show exactly the traffic the test made.

Workload, each policy on its own host so counters do not mix (all from 127.0.0.1):
  live.test    no limits              5 WebSockets open, 2 closed again; 4 messages each way on every one
  capped.test  limit-connections 2    2 WebSockets held open, then 2 more refused (429)
  single.test  max-connections 1      1 WebSocket held open, then 1 more refused (429)
  rated.test   limit-rpm 1, burst x1  3 GETs: 1 answered, 2 refused (429)
  plain.test   no limits              3 GETs (200), 2 GETs of an unrouted path (404)
  empty.test   a Service with no endpoints: 2 GETs (503)
"""

from __future__ import annotations

import re
import socket
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

import manifests as m
from harness import REPO_ROOT, PierStack, wait_until
from prometheus import Prometheus, prometheus_binary
from promtext import metric
from rawhttp import Connection, format_request

pytestmark = pytest.mark.skipif(prometheus_binary() is None, reason="prometheus is not installed (Debian package)")

LIVE_OPENED, LIVE_CLOSED, MESSAGES_EACH = 5, 2, 4
CAPPED_LIMIT, CAPPED_REFUSED = 2, 2
SINGLE_LIMIT, SINGLE_REFUSED = 1, 1
RATED_REQUESTS = 3
PLAIN_OK, PLAIN_MISSING, EMPTY_REQUESTS = 3, 2, 2
JOBS = ("dataplane", "controller")
SETTLE_TIMEOUT_S = 10.0


@pytest.fixture
def observed(stack, tmp_path):
    backend = stack.start_backend("chat")

    def ingress(name: str, host: str, service: str = "chat", annotations: dict | None = None) -> dict:
        return m.ingress(name, [("/", service)], annotations=annotations, host=host)

    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("apps.yaml", m.render(
        *m.service_with_backends("chat", [backend.port]),
        m.service("empty"), m.endpoint_slice("empty", "empty", None),
        ingress("live", "live.test"),
        ingress("capped", "capped.test", annotations={"pier.dev/limit-connections": str(CAPPED_LIMIT)}),
        ingress("single", "single.test", annotations={"pier.dev/max-connections": str(SINGLE_LIMIT)}),
        ingress("rated", "rated.test", annotations={"pier.dev/limit-rpm": "1", "pier.dev/limit-burst-multiplier": "1"}),
        ingress("plain", "plain.test"),
        ingress("empty", "empty.test", service="empty")))
    stack.start()
    prometheus = Prometheus(stack.launcher, tmp_path, {
        "dataplane": f"127.0.0.1:{stack.admin_port}",
        "controller": f"127.0.0.1:{stack.controller_metrics_port}"})
    return stack, prometheus


def open_ws(stack: PierStack, host: str) -> ClientConnection:
    sock = socket.create_connection(("127.0.0.1", stack.http_port), timeout=5)
    try:
        return connect(f"ws://{host}/ws/echo", sock=sock, proxy=None, legacy=True, open_timeout=5, close_timeout=2,
                       ping_interval=None)
    except BaseException:
        sock.close()
        raise


def refused_ws(stack: PierStack, host: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        open_ws(stack, host).close()
    return refused.value.response.status_code


def get(stack: PierStack, host: str, path: str) -> int:
    with Connection(stack.http_port) as connection:
        connection.send(format_request("GET", path, {"Connection": "close"}, host=host))
        return connection.read_response().status


def run_workload(stack: PierStack) -> list[ClientConnection]:
    """Returns the WebSockets it leaves open."""
    held: list[ClientConnection] = []
    live = [open_ws(stack, "live.test") for _ in range(LIVE_OPENED)]
    for index, ws in enumerate(live):
        for n in range(MESSAGES_EACH):
            ws.send(f"message {index}.{n}")
            assert ws.recv(timeout=5) == f"message {index}.{n}"
    for ws in live[:LIVE_CLOSED]:
        ws.close()
    held += live[LIVE_CLOSED:]

    held += [open_ws(stack, "capped.test") for _ in range(CAPPED_LIMIT)]
    assert [refused_ws(stack, "capped.test") for _ in range(CAPPED_REFUSED)] == [429] * CAPPED_REFUSED
    held += [open_ws(stack, "single.test") for _ in range(SINGLE_LIMIT)]
    assert [refused_ws(stack, "single.test") for _ in range(SINGLE_REFUSED)] == [429] * SINGLE_REFUSED

    assert [get(stack, "rated.test", "/headers") for _ in range(RATED_REQUESTS)] == [200] + [429] * (RATED_REQUESTS - 1)
    assert [get(stack, "plain.test", "/headers") for _ in range(PLAIN_OK)] == [200] * PLAIN_OK
    # plain.test routes "/" as a Prefix; an unknown host has no route at all.
    assert [get(stack, "nowhere.test", "/headers") for _ in range(PLAIN_MISSING)] == [404] * PLAIN_MISSING
    assert [get(stack, "empty.test", "/headers") for _ in range(EMPTY_REQUESTS)] == [503] * EMPTY_REQUESTS
    return held


def nonzero(values: dict) -> dict:
    return {key: value for key, value in values.items() if value != 0}


def test_prometheus_sees_exactly_the_workload(observed):
    stack, prometheus = observed
    held = run_workload(stack)
    try:
        # Tunnels end asynchronously after a client's close: wait until the dataplane itself has
        # counted them, then for a scrape that started after that.
        live_open = LIVE_OPENED - LIVE_CLOSED
        wait_until(lambda: metric(stack.admin_port, "pier_websocket_connections_active", ingress="live") == live_open,
                   SETTLE_TIMEOUT_S, "the closed tunnels to leave the live gauge", alive=stack.check_alive)
        prometheus.wait_for_scrapes_after(time.time(), JOBS)

        assert nonzero(prometheus.values_by("sum by (ingress) (pier_websocket_connections_active)", "ingress")) == {
            "live": live_open, "capped": CAPPED_LIMIT, "single": SINGLE_LIMIT}
        assert nonzero(prometheus.values_by("sum by (ingress, result) (pier_websocket_upgrades_total)",
                                            "ingress", "result")) == {
            ("live", "tunnelled"): LIVE_OPENED,
            ("capped", "tunnelled"): CAPPED_LIMIT, ("capped", "disabled"): CAPPED_REFUSED,
            ("single", "tunnelled"): SINGLE_LIMIT, ("single", "disabled"): SINGLE_REFUSED}
        messages = LIVE_OPENED * MESSAGES_EACH
        assert nonzero(prometheus.values_by("sum by (ingress, direction) (pier_websocket_messages_total)",
                                            "ingress", "direction")) == {
            ("live", "in"): messages, ("live", "out"): messages}
        assert nonzero(prometheus.values_by("sum by (reason) (pier_connections_rejected_total)", "reason")) == {
            "limit_connections": CAPPED_REFUSED, "max_connections": SINGLE_REFUSED,
            "rate_limited": RATED_REQUESTS - 1}
        tunnels = LIVE_OPENED + CAPPED_LIMIT + SINGLE_LIMIT
        assert nonzero(prometheus.values_by("sum by (code) (pier_http_requests_total)", "code")) == {
            "101": tunnels, "200": 1 + PLAIN_OK, "404": PLAIN_MISSING, "503": EMPTY_REQUESTS,
            "429": CAPPED_REFUSED + SINGLE_REFUSED + RATED_REQUESTS - 1}
        # The closed tunnels' lifetimes, and nothing else yet (open ones are observed when they end).
        assert prometheus.scalar("sum(pier_websocket_connection_duration_seconds_count)") == LIVE_CLOSED

        assert prometheus.scalar('pier_controller_dataplanes_connected{job="controller"}') == 1
        assert prometheus.scalar('pier_controller_snapshots_total{job="controller"}') >= 1
        assert prometheus.scalar('pier_controller_is_leader{job="controller"}') == 1
        assert prometheus.scalar('sum(pier_controller_dataplane_acks_total{result="ack"})') >= 1
        assert prometheus.scalar('sum(pier_controller_dataplane_acks_total{result="nack"})') == 0
        assert prometheus.scalar('pier_config_applies_total{job="dataplane",result="success"}') >= 1
        assert prometheus.scalar('pier_config_version{job="dataplane"}') >= 1
        for job in JOBS:
            assert prometheus.scalar(f'pier_build_info{{job="{job}"}}') == 1
            assert prometheus.scalar(f'process_resident_memory_bytes{{job="{job}"}}') > 0
            assert prometheus.scalar(f'process_open_fds{{job="{job}"}}') > 0
            start = prometheus.scalar(f'process_start_time_seconds{{job="{job}"}}')
            assert time.time() - 600 < start <= time.time()
    finally:
        for ws in held:
            ws.close()


# A label value that looks like a path or an address would make series unbounded.
_PATH_OR_ADDRESS = re.compile(r"^/|(\d{1,3}\.){3}\d{1,3}|::1")


def test_no_series_is_labelled_with_a_path_or_an_address(observed):
    stack, prometheus = observed
    # Routed to the backend, which knows no such path: its 404 is counted on the plain route.
    assert get(stack, "plain.test", "/headers/some/long/path?q=1") == 404
    assert get(stack, "nowhere.test", "/not/routed") == 404
    prometheus.wait_for_scrapes_after(time.time(), JOBS)
    for job in JOBS:
        series = prometheus.api("series", {"match[]": f'{{job="{job}"}}'})
        assert len(series) > 10, series
        for labels in series:
            for name, value in labels.items():
                if name in ("instance", "__name__"):  # instance is Prometheus' own host:port
                    continue
                assert not _PATH_OR_ADDRESS.search(value), f"{job}: {labels}"


_DOC_ROW = re.compile(r"^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary|untyped) \|", re.M)
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def test_every_scraped_metric_is_in_the_generated_reference(observed):
    """docs/metrics.md comes from catalog tools that register families the way the binaries do;
    this catches a family a binary registers that its tool does not."""
    stack, prometheus = observed
    assert get(stack, "plain.test", "/headers") == 200
    with open_ws(stack, "live.test") as ws:
        ws.send("x")
        assert ws.recv(timeout=5) == "x"
    prometheus.wait_for_scrapes_after(time.time(), JOBS)
    documented = dict(_DOC_ROW.findall((REPO_ROOT / "docs" / "metrics.md").read_text()))
    for job in JOBS:
        names = set(prometheus.values_by(f'count by (__name__) ({{job="{job}"}})', "__name__"))
        ours = {name for name in names if name.startswith(("pier_", "process_"))}
        assert "pier_build_info" in ours, names
        for name in ours:
            base = next((name[: -len(s)] for s in _HISTOGRAM_SERIES
                         if name.endswith(s) and documented.get(name[: -len(s)]) == "histogram"), name)
            assert base in documented, f"{job} exports {name}, which docs/metrics.md does not list"
