"""The Prometheus alert rules: promtool accepts them, its unit tests (pier-alerts.test.yaml)
show each alert firing on its failure and not on look-alikes, and they query only metrics that
Pier exports."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from metricnames import CHART_FILES, known_metrics, metrics_in, unknown_metrics

ALERTS = CHART_FILES / "pier-alerts.yaml"
RULE_TESTS = Path(__file__).with_name("pier-alerts.test.yaml")

# The operator-facing failures the rules must cover.
REQUIRED_ALERTS = {"PierNoDataplaneConnected", "PierSnapshotNacked", "PierConfigApplyFailing",
                   "PierUpstreamErrorRatioHigh", "PierCertificateExpiringSoon"}


def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        pytest.skip("promtool not installed (Debian package prometheus)")
    return path


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"]
            for rule in group["rules"]]


def test_promtool_check_rules():
    result = subprocess.run([promtool(), "check", "rules", str(ALERTS)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_promtool_rule_unit_tests():
    result = subprocess.run([promtool(), "test", "rules", str(RULE_TESTS)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stdout


def test_every_alert_has_a_unit_test():
    tested = {case["alertname"] for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
              for case in test["alert_rule_test"]}
    assert tested == {rule["alert"] for rule in rules()}


def test_required_alerts_exist_with_severity_and_text():
    by_name = {rule["alert"]: rule for rule in rules()}
    assert REQUIRED_ALERTS <= set(by_name)
    for name, rule in by_name.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


def test_certificate_alert_uses_the_expiry_metric_and_fourteen_days():
    rule = next(r for r in rules() if r["alert"] == "PierCertificateExpiringSoon")
    assert metrics_in(rule["expr"]) == {"pier_tls_certificate_expiry_timestamp_seconds"}
    assert "14 * 24 * 3600" in rule["expr"]


def test_rules_query_only_known_metrics():
    known = known_metrics()
    for rule in rules():
        assert metrics_in(rule["expr"]), rule["alert"]
        assert unknown_metrics(rule["expr"], known) == set(), rule["alert"]


def test_unknown_metric_detection():
    known = known_metrics()
    assert unknown_metrics("rate(pier_http_request_duration_seconds_bucket[5m])", known) == set()
    assert unknown_metrics("rate(pier_http_requests_total_bucket[5m])", known) == {
        "pier_http_requests_total_bucket"}
    assert unknown_metrics("pier_websocket_active", known) == {"pier_websocket_active"}
    assert metrics_in('sum by (namespace) (pier_bytes_total{ingress="x_pier_y"})') == {
        "pier_bytes_total"}
