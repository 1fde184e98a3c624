"""./dev bench --quick keeps working: every scenario against every target with tiny sizes.

This checks the harness (processes start, tools run, figures come back non-zero, nothing
errors or drops), never how fast anything is: timing belongs to ./dev bench, not to tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "bench" / "driver" / "bench.py"
sys.path.insert(0, str(DRIVER.parent))

import load  # noqa: E402

TARGETS = ("direct", "pier", "nginx", "haproxy")


def bin_dir() -> Path:
    value = os.environ.get("PIER_BIN_DIR")
    if not value:
        pytest.skip("PIER_BIN_DIR is not set")
    path = Path(value)
    for tool in ("pier-loadgen", "pier-bench-backend", "pier-metrics-cost", "pier-controller", "pier-dataplane",
                 "pier-churn-controller"):
        if not (path / tool).exists():
            pytest.skip(f"{tool} is not built in {path} (the bench tools are off in this preset)")
    return path


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = subprocess.run([sys.executable, str(DRIVER), "--bin-dir", str(bin_dir()), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert out.exists(), f"no JSON written:\n{proc.stdout}\n{proc.stderr}"
    data = json.loads(out.read_text())
    assert proc.returncode == 0, f"{data['failures']}\n{proc.stdout}\n{proc.stderr}"
    return data


@pytest.mark.timeout(660)
def test_every_target_answers_http(quick_run):
    for target in TARGETS:
        result = quick_run["results"]["1"][target]
        assert result["requests"] > 0, target
        assert result["errors"] == 0, target
        assert result["latency_us"]["p99"] > 0, target


@pytest.mark.timeout(660)
@pytest.mark.parametrize("scenario,unit", [("1", "request"), ("2", "message"), ("4", "handshake")])
def test_proxy_cpu_comes_whole_and_in_user_space(quick_run, scenario, unit):
    for target in ("pier", "nginx", "haproxy"):
        result = quick_run["results"][scenario][target]
        total = result[f"proxy_cpu_us_per_{unit}"]
        user = result[f"proxy_user_cpu_us_per_{unit}"]
        assert 0 <= user <= total, (scenario, target, user, total)
    assert f"proxy_cpu_us_per_{unit}" not in quick_run["results"][scenario]["direct"]


def test_proxy_cpu_splits_user_and_system_time():
    """add_proxy_cpu on this very process: a busy loop is user time, and the split adds up."""
    import scenarios

    pid = os.getpid()
    before = load.cpu_times([pid])
    give_up = time.monotonic() + 10
    total = 0
    while load.cpu_times([pid])[0] - before[0] < 0.1 and time.monotonic() < give_up:
        total += sum(range(100_000))  # user-space work between the reads of /proc
    result: dict = {}
    scenarios.add_proxy_cpu(result, [pid], before, 1000, "request")
    assert result["proxy_user_cpu_us_per_request"] >= 100  # at least 0.1 s in user space, over 1000
    assert result["proxy_user_cpu_us_per_request"] <= result["proxy_cpu_us_per_request"]
    empty: dict = {}
    scenarios.add_proxy_cpu(empty, [pid], before, 0, "request")  # nothing done: no figure
    scenarios.add_proxy_cpu(empty, [], before, 1000, "request")  # no proxy: no figure
    assert empty == {}


@pytest.mark.timeout(660)
@pytest.mark.parametrize("scenario", ["2", "3", "4"])
def test_websocket_scenarios_move_validated_messages(quick_run, scenario):
    for target in TARGETS:
        result = quick_run["results"][scenario][target]
        assert result["messages"] > 0, (scenario, target)
        assert result["errors"] == {"connect": 0, "validation": 0, "dropped": 0}, (scenario, target)
        if scenario != "4":
            assert result["payload_bytes"] > 0, (scenario, target)


@pytest.mark.timeout(660)
def test_idle_connections_are_held_and_measured(quick_run):
    wanted = quick_run["environment"]["idle_connections"]
    for target in TARGETS:
        result = quick_run["results"]["5"][target]
        assert result["opened"] == wanted, target
        assert result["errors"]["dropped"] == 0, target
        if target != "direct":
            assert result["rss_held_bytes"] > 0, target


@pytest.mark.timeout(660)
def test_config_churn_applies_snapshots_without_drops(quick_run):
    result = quick_run["results"]["6"]["pier"]
    assert result["manifest_edits"] > 0
    assert result["snapshots_applied"] > 0
    assert result["messages"] > 0
    assert result["errors"]["dropped"] == 0


@pytest.mark.timeout(660)
def test_pushed_snapshots_apply_without_drops(quick_run):
    result = quick_run["results"]["6b"]["pier"]
    assert result["snapshots_applied"] > 0
    assert result["messages"] > 0
    assert result["errors"] == {"connect": 0, "validation": 0, "dropped": 0}


@pytest.mark.timeout(660)
def test_controller_scale_routes_every_edit(quick_run):
    result = quick_run["results"]["7"]["pier"]
    assert result["first_snapshot_s"] > 0
    assert result["controller_rss_bytes"] > 0
    assert result["edit_to_applied_ms"]["count"] == 3


@pytest.mark.timeout(660)
def test_metrics_cost_is_measured(quick_run):
    threads = [row["threads"] for row in quick_run["metrics_cost"]]
    assert threads == [1, 2]
    assert all(row["ns_per_request"] > 0 and row["ns_per_message"] > 0 for row in quick_run["metrics_cost"])


WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:1/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    51.00us   20.00us   1.20ms   90.00%
  Latency Distribution
     50%   45.00us
     75%   60.00us
     90%  100.00us
     99%    1.10ms
  40000 requests in 1.00s, 3.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:  39990.12
Transfer/sec:      2.99MB
"""


def test_wrk_output_is_parsed():
    result = load.parse_wrk(WRK_OUTPUT)
    assert result["requests_per_s"] == pytest.approx(39990.12)
    assert result["requests"] == 40000
    assert result["latency_us"] == {"p50": 45.0, "p75": 60.0, "p90": 100.0, "p99": 1100.0}
    assert result["errors"] == 6


def _driver_module(name: str):
    """A module of bench/driver by its path: tests/integration has a scenarios.py of its own."""
    spec = importlib.util.spec_from_file_location(f"bench_driver_{name}", DRIVER.parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_handshakes_wait_for_time_wait_sockets_to_expire(monkeypatch):
    scenarios = _driver_module("scenarios")
    counts = iter([30000, 30000, 20000, 9000, 9000])
    sleeps = []
    monkeypatch.setattr(scenarios, "_time_wait_sockets", lambda: next(counts))
    monkeypatch.setattr(scenarios.time, "sleep", sleeps.append)
    scenarios.wait_for_time_wait_drain(10000, 60)
    assert len(sleeps) == 3  # waited until the count fell below the limit, then went on
    # Bounded: a count that never falls stops the wait at the timeout.
    monkeypatch.setattr(scenarios, "_time_wait_sockets", lambda: 30000)
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(scenarios.time, "monotonic", lambda: next(clock))
    scenarios.wait_for_time_wait_drain(10000, 60)
    # The real counters are readable here.
    assert scenarios._time_wait_sockets() >= 0
    assert scenarios._ephemeral_ports() > 1000


def test_rounds_merge_to_medians_and_keep_every_error():
    report = _driver_module("report")
    rounds = [{"messages_per_s": 100.0, "latency_us": {"p99": 9.0}, "errors": {"connect": 0, "dropped": 1}, "mode": "echo"},
              {"messages_per_s": 300.0, "latency_us": {"p99": 90.0}, "errors": {"connect": 2, "dropped": 0}, "mode": "echo"},
              {"messages_per_s": 200.0, "latency_us": {"p99": 10.0}, "errors": {"connect": 0, "dropped": 0}, "mode": "echo"}]
    merged = report.median_result(rounds)
    assert merged["messages_per_s"] == 200.0
    assert merged["latency_us"]["p99"] == 10.0
    assert merged["errors"] == {"connect": 2, "dropped": 1}  # summed: one bad round is not outvoted
    assert merged["mode"] == "echo"
    assert report.median_result(rounds[:1]) == rounds[0]
    runs = {"2": {"pier": rounds, "nginx": rounds[::-1], "haproxy": rounds}}
    line = report.round_ratios(runs, {"2"})
    assert line == "2 WS echo  msgs/s, each round: pier/nginx 0.50x 1.00x 2.00x; pier/haproxy 1.00x 1.00x 1.00x"


@pytest.mark.timeout(300)
def test_rounds_run_each_scenario_against_each_target_in_rotation(tmp_path):
    out = tmp_path / "rounds.json"
    proc = subprocess.run([sys.executable, str(DRIVER), "--bin-dir", str(bin_dir()), "--quick", "--scenarios", "1,4",
                           "--targets", "pier,nginx", "--rounds", "2", "--json", str(out)],
                          capture_output=True, text=True, timeout=280)
    assert out.exists(), f"no JSON written:\n{proc.stdout}\n{proc.stderr}"
    data = json.loads(out.read_text())
    assert proc.returncode == 0, f"{data['failures']}\n{proc.stdout}\n{proc.stderr}"
    assert data["rounds"] == 2
    for scenario in ("1", "4"):
        for target in ("pier", "nginx"):
            assert len(data["runs"][scenario][target]) == 2, (scenario, target)
    # The order: round 1 runs pier then nginx for each scenario, round 2 nginx then pier.
    done = [line.split()[:3] for line in proc.stdout.splitlines() if line.strip().endswith("errors 0")]
    assert [(t, s) for t, _, s in done] == [("pier", "1:"), ("nginx", "1:"), ("pier", "4:"), ("nginx", "4:"),
                                            ("nginx", "1:"), ("pier", "1:"), ("nginx", "4:"), ("pier", "4:")]
    runs = data["runs"]["1"]["pier"]
    assert data["results"]["1"]["pier"]["requests_per_s"] == pytest.approx(
        sorted(r["requests_per_s"] for r in runs)[0] / 2 + sorted(r["requests_per_s"] for r in runs)[1] / 2)
    assert "4 handshakes/s, each round: pier/nginx" in proc.stdout


@pytest.mark.timeout(200)
def test_a_baseline_build_runs_beside_pier_with_its_ratio(tmp_path):
    out = tmp_path / "baseline.json"
    proc = subprocess.run([sys.executable, str(DRIVER), "--bin-dir", str(bin_dir()), "--quick", "--scenarios", "2",
                           "--targets", "pier", "--baseline-bin-dir", str(bin_dir()), "--json", str(out)],
                          capture_output=True, text=True, timeout=180)
    assert out.exists(), f"no JSON written:\n{proc.stdout}\n{proc.stderr}"
    data = json.loads(out.read_text())
    assert proc.returncode == 0, f"{data['failures']}\n{proc.stdout}\n{proc.stderr}"
    for target in ("pier", "pier-base"):
        result = data["results"]["2"][target]
        assert result["messages"] > 0, target
        assert report_errors(result) == 0, target
    header = next(line for line in proc.stdout.splitlines() if line.startswith("figure"))
    assert header.split()[-2:] == ["pier/direct", "pier/base"]
    row = next(line for line in proc.stdout.splitlines() if line.startswith("2 WS echo  msgs/s"))
    assert row.split()[-1].endswith("x")  # the ratio to the baseline is a number, not "-"


def report_errors(result: dict) -> int:
    return _driver_module("report").errors_of(result)
