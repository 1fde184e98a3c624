#!/usr/bin/env python3
"""./dev bench: Pier against nginx, HAProxy and a direct connection, scenario by scenario.

    bench.py --bin-dir build/release/bin [--quick] [--scenarios 1,2,...] [--rounds 3] [--threads 2] [--json FILE]

Every target is started at once, and each scenario then runs against each target in turn
before the next scenario starts, so a slow stretch of the shared machine falls on all of them
rather than on whichever target's turn it was. The idle scenario (5) goes first, on untouched
proxies, so earlier load does not hide their memory. With --rounds N, scenarios 1-4 run N
times, the target order rotating each round, and the table shows each figure's median (the
JSON keeps every round). Scenario 6 (config churn) and 7 (controller scale) are Pier's alone.
--baseline-bin-dir adds another Pier build as target pier-base, with Pier's ratio to it: an A/B
of two builds under the same conditions as the comparison with nginx and HAProxy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
import scenarios as sc  # noqa: E402
from procs import raise_fd_limit  # noqa: E402
from targets import Backend, Direct, Haproxy, Nginx, Pier, version_of  # noqa: E402

ALL_SCENARIOS = ["1", "2", "3", "4", "5", "6", "7"]
# Two descriptors per proxied connection plus headroom for listeners, logs and the admin port.
FD_HEADROOM = 200
# The scenarios that run once per round, in this order.
ROUND_STEPS = [("1", sc.http_keepalive), ("2", sc.websocket_echo), ("3", sc.websocket_stream), ("4", sc.handshakes)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of every scenario")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS), help="comma-separated, e.g. 1,2,5")
    parser.add_argument("--targets", default="direct,pier,nginx,haproxy")
    parser.add_argument("--threads", type=int, default=2, help="proxy worker threads/processes")
    parser.add_argument("--baseline-bin-dir", type=Path,
                        help="another Pier build's bin dir, run as target pier-base beside the others (A/B of two builds)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run scenarios 1-4 this many times, rotating the targets' order; the table shows medians")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (configs, logs)")
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(ALL_SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if args.baseline_bin_dir and report.BASELINE not in args.targets:
        args.targets.append(report.BASELINE)
    if report.BASELINE in args.targets and not args.baseline_bin_dir:
        parser.error(f"target {report.BASELINE} needs --baseline-bin-dir")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def environment(bin_dir: Path) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "pier_commit": commit or "unknown",
        "nginx": version_of(["nginx", "-v"]),
        "haproxy": version_of(["haproxy", "-v"]),
        "wrk": version_of(["wrk", "-v"]),
    }


def start_target(name: str, ctx: sc.Context, backend: Backend, nofile: int):
    if name == "direct":
        return Direct(backend)
    if name == "pier":
        return Pier(ctx.bin_dir, ctx.work / "pier", backend, ctx.threads)
    if name == report.BASELINE:
        (ctx.work / name).mkdir(parents=True, exist_ok=True)
        return Pier(ctx.baseline_bin_dir, ctx.work / name, backend, ctx.threads)
    if name == "nginx":
        return Nginx(ctx.work, backend, ctx.threads, nofile)
    if name == "haproxy":
        return Haproxy(ctx.work, backend, ctx.threads, nofile)
    raise ValueError(f"unknown target {name}")


def run_targets(names: list[str], ctx: sc.Context, backend: Backend, wanted: list[str], nofile: int,
                idle_count: int, rounds: int, runs: dict, failures: list[str]) -> None:
    """Starts every target, runs the scenarios scenario by scenario (each against every target),
    and stops them all. Each result is appended to runs[scenario][target]; a failing scenario or
    target is recorded in failures and the rest goes on."""
    (ctx.work / "pier").mkdir(parents=True, exist_ok=True)
    started: dict = {}

    def step(name: str, key: str, run) -> None:
        begun = time.monotonic()
        try:
            result = run()
        except Exception as error:  # one failure must not lose the other figures
            failures.append(f"{name} scenario {key}: {error}")
            print(f"  {name:8} scenario {key}: FAILED: {error}", flush=True)
            return
        if result is None:
            return
        runs.setdefault(key, {}).setdefault(name, []).append(result)
        print(f"  {name:8} scenario {key}: done in {time.monotonic() - begun:.1f}s, "
              f"errors {report.errors_of(result)}", flush=True)

    try:
        for name in names:
            try:
                started[name] = start_target(name, ctx, backend, nofile)
            except Exception as error:
                failures.append(f"{name}: {error}")
                print(f"  {name}: FAILED to start: {error}", flush=True)
        order = list(started)
        if "5" in wanted:
            for name in order:
                step(name, "5", lambda target=started[name]: sc.idle_connections(ctx, target, idle_count))
        for round_index in range(rounds):
            if rounds > 1:
                print(f"  round {round_index + 1} of {rounds}", flush=True)
            rotated = order[round_index % len(order):] + order[:round_index % len(order)] if order else []
            for key, scenario in ROUND_STEPS:
                if key not in wanted:
                    continue
                for name in rotated:
                    step(name, key, lambda target=started[name], scenario=scenario: scenario(ctx, target))
        if "6" in wanted and isinstance(started.get("pier"), Pier):
            step("pier", "6", lambda: sc.config_churn(ctx, started["pier"]))
    finally:
        for target in started.values():
            target.stop()


def metrics_cost(bin_dir: Path, quick: bool) -> list[dict]:
    argv = [str(bin_dir / "pier-metrics-cost"), "--json", "--iterations", "20000" if quick else "2000000"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sizes = sc.QUICK if args.quick else sc.Sizes()
    nofile = raise_fd_limit()
    # The proxy holds two sockets per idle WebSocket: 10,000 needs more than a 20,000 hard limit.
    idle_count = min(sizes.idle_connections, (nofile - FD_HEADROOM) // 2)
    env = environment(args.bin_dir)
    env["threads"] = args.threads
    env["idle_connections"] = idle_count
    env["fd_limit"] = nofile
    env["rounds"] = args.rounds
    results: dict = {}
    runs: dict = {}
    work = Path(tempfile.mkdtemp(prefix="pier-bench."))
    ctx = sc.Context(bin_dir=args.bin_dir, work=work, sizes=sizes, threads=args.threads,
                     baseline_bin_dir=args.baseline_bin_dir)
    print(f"pier bench: {'quick' if args.quick else 'full'} run, scenarios {','.join(args.scenarios)}, "
          f"{args.rounds} round(s), {args.threads} proxy threads, work folder {work}", flush=True)
    failures = []
    backend = Backend(args.bin_dir, work, args.threads)
    try:
        run_targets(args.targets, ctx, backend, args.scenarios, nofile, idle_count, args.rounds, runs, failures)
        for key, per_target in runs.items():
            results[key] = {name: report.median_result(found) for name, found in per_target.items()}
        if "6" in args.scenarios and "pier" in args.targets:
            try:
                started = time.monotonic()
                results.setdefault("6b", {})["pier"] = sc.pushed_churn(ctx, backend.port)
                print(f"  pier     scenario 6b: done in {time.monotonic() - started:.1f}s", flush=True)
            except Exception as error:
                failures.append(f"scenario 6b: {error}")
                print(f"  scenario 6b: FAILED: {error}", flush=True)
        if "7" in args.scenarios and "pier" in args.targets:
            try:
                started = time.monotonic()
                results.setdefault("7", {})["pier"] = sc.controller_scale(ctx, backend.port)
                print(f"  pier     scenario 7: done in {time.monotonic() - started:.1f}s", flush=True)
            except Exception as error:
                failures.append(f"scenario 7: {error}")
                print(f"  scenario 7: FAILED: {error}", flush=True)
    finally:
        backend.stop()
    cost = []
    try:
        cost = metrics_cost(args.bin_dir, args.quick)
    except (subprocess.SubprocessError, OSError, ValueError) as error:
        failures.append(f"metrics cost: {error}")

    print()
    print(f"machine: {env['cpus']} CPUs, kernel {env['kernel']}; Pier {env['pier_commit']}; {env['nginx']}; "
          f"{env['haproxy']}; {args.threads} proxy threads; {idle_count} idle connections")
    if args.rounds > 1:
        print(f"scenarios 1-4: the median of {args.rounds} rounds per cell, ratios of the medians")
    print(report.table(results, set(args.scenarios)))
    if args.rounds > 1:
        print(report.round_ratios(runs, set(args.scenarios)))
    if cost:
        print(report.metrics_cost_lines(cost, results))
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "results": results, "rounds": args.rounds,
                                         "runs": runs, "metrics_cost": cost, "failures": failures,
                                         "quick": args.quick}, indent=2))
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
