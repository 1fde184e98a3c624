"""The Grafana dashboard: valid JSON with the panels the operator needs, every query on a metric
Pier exports, and no hard-wired data source."""

from __future__ import annotations

import json

import pytest

from metricnames import CHART_FILES, known_metrics, metrics_in, unknown_metrics

DASHBOARD = CHART_FILES / "pier-dashboard.json"

# Panel title -> metric its queries must use (what DESIGN.md's Observability asks to show).
REQUIRED_PANELS = {
    "Live WebSockets per Ingress": "pier_websocket_connections_active",
    "Upgrades by result": "pier_websocket_upgrades_total",
    "WebSocket lifetime": "pier_websocket_connection_duration_seconds_bucket",
    "Requests by status": "pier_http_requests_total",
    "Request latency p50 / p99": "pier_http_request_duration_seconds_bucket",
    "Rejected connections by reason": "pier_connections_rejected_total",
    "Config applies by result": "pier_config_applies_total",
    "Config version per dataplane": "pier_config_version",
    "Snapshots built": "pier_controller_snapshots_total",
    "Dataplane acks by result": "pier_controller_dataplane_acks_total",
    "Dataplanes connected": "pier_controller_dataplanes_connected",
    "Watch restarts by kind and reason": "pier_controller_watch_restarts_total",
}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict) -> list[dict]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return [p for p in found if p["type"] != "row"]


def test_dashboard_identity(dashboard):
    assert dashboard["uid"] == "pier-overview"
    assert dashboard["title"] == "Pier"
    assert isinstance(dashboard["schemaVersion"], int)


def test_panel_ids_are_unique(dashboard):
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_panels_do_not_overlap(dashboard):
    cells = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))


def test_required_panels(dashboard):
    by_title = {p["title"]: p for p in panels(dashboard)}
    for title, metric in REQUIRED_PANELS.items():
        assert title in by_title, title
        exprs = " ".join(t["expr"] for t in by_title[title]["targets"])
        assert metric in metrics_in(exprs), title
    assert by_title["WebSocket lifetime"]["type"] == "heatmap"
    latency = [t["expr"] for t in by_title["Request latency p50 / p99"]["targets"]]
    assert [e.split(",")[0] for e in latency] == ["histogram_quantile(0.5", "histogram_quantile(0.99"]


def test_every_query_uses_known_metrics(dashboard):
    known = known_metrics()
    for panel in panels(dashboard):
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert metrics_in(target["expr"]), (panel["title"], target["expr"])
            assert unknown_metrics(target["expr"], known) == set(), panel["title"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            assert unknown_metrics(variable["query"]["query"], known) == set(), variable["name"]


def test_data_source_is_a_variable(dashboard):
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"


def test_counters_are_rated_not_plotted_raw(dashboard):
    known = known_metrics()
    for panel in panels(dashboard):
        for target in panel["targets"]:
            expr = target["expr"]
            for name in metrics_in(expr):
                if known.get(name) == "counter" or name.endswith("_bucket"):
                    assert "rate(" in expr or "increase(" in expr, (panel["title"], expr)
