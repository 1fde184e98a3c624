"""The comparison table: one row per figure, one column per target, then Pier's ratios."""

from __future__ import annotations

import statistics

TARGETS = ("direct", "pier", "nginx", "haproxy")
# Another Pier build (--baseline-bin-dir), shown with Pier's ratio to it when it ran.
BASELINE = "pier-base"

# (scenario key, label, path into the result, higher is better, unit scale, format)
ROWS = [
    ("1", "1 HTTP keep-alive GET  req/s", ("requests_per_s",), True, 1, "{:,.0f}"),
    ("1", "1 HTTP  p50 us", ("latency_us", "p50"), False, 1, "{:,.0f}"),
    ("1", "1 HTTP  p99 us", ("latency_us", "p99"), False, 1, "{:,.0f}"),
    ("1", "1 HTTP  proxy CPU us/request", ("proxy_cpu_us_per_request",), False, 1, "{:.1f}"),
    ("1", "1 HTTP  proxy user CPU us/request", ("proxy_user_cpu_us_per_request",), False, 1, "{:.1f}"),
    ("2", "2 WS echo  msgs/s", ("messages_per_s",), True, 1, "{:,.0f}"),
    ("2", "2 WS echo  p50 us", ("latency_us", "p50"), False, 1, "{:,.0f}"),
    ("2", "2 WS echo  p99 us", ("latency_us", "p99"), False, 1, "{:,.0f}"),
    ("2", "2 WS echo  proxy CPU us/message", ("proxy_cpu_us_per_message",), False, 1, "{:.1f}"),
    ("2", "2 WS echo  proxy user CPU us/message", ("proxy_user_cpu_us_per_message",), False, 1, "{:.1f}"),
    ("3", "3 WS stream  MB/s", ("mb_per_s",), True, 1, "{:,.1f}"),
    ("4", "4 handshakes/s", ("messages_per_s",), True, 1, "{:,.0f}"),
    ("4", "4 handshake  p99 us", ("latency_us", "p99"), False, 1, "{:,.0f}"),
    ("4", "4 handshake  proxy CPU us/connection", ("proxy_cpu_us_per_handshake",), False, 1, "{:.1f}"),
    ("4", "4 handshake  proxy user CPU us/connection", ("proxy_user_cpu_us_per_handshake",), False, 1, "{:.1f}"),
    ("5", "5 idle WS  KiB/connection", ("rss_per_connection_bytes",), False, 1 / 1024, "{:.2f}"),
    ("6", "6 churn  msgs/s", ("messages_per_s",), True, 1, "{:,.0f}"),
    ("6", "6 churn  p99 us", ("latency_us", "p99"), False, 1, "{:,.0f}"),
    ("6", "6 churn  dropped connections", ("errors", "dropped"), False, 1, "{:.0f}"),
    ("6", "6 churn  snapshots applied", ("snapshots_applied",), True, 1, "{:.0f}"),
    ("6b", "6b pushed churn  msgs/s", ("messages_per_s",), True, 1, "{:,.0f}"),
    ("6b", "6b pushed churn  p99 us", ("latency_us", "p99"), False, 1, "{:,.0f}"),
    ("6b", "6b pushed churn  dropped connections", ("errors", "dropped"), False, 1, "{:.0f}"),
    ("6b", "6b pushed churn  snapshots/s applied", ("snapshots_per_s",), True, 1, "{:.0f}"),
]


def _dig(result: dict | None, path: tuple) -> float | None:
    value = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, (int, float)) else None


def _cell(value: float | None, scale: float, fmt: str) -> str:
    return "-" if value is None else fmt.format(value * scale)


def _ratio(pier: float | None, other: float | None) -> str:
    if pier is None or other is None or other == 0:
        return "-"
    return f"{pier / other:.2f}x"


def median_result(results: list):
    """One result from several rounds of the same scenario against the same target: each number
    is the median of the rounds' numbers, except under "errors", where they add up (an error in
    any round stays visible)."""
    return _merge(results, summing=False)


def _merge(values: list, summing: bool):
    first = values[0]
    if len(values) == 1 and not isinstance(first, dict):
        return first
    if isinstance(first, dict):
        return {key: _merge([v[key] for v in values if isinstance(v, dict) and key in v], summing or key == "errors")
                for key in first}
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if isinstance(first, bool) or not numbers:
        return first
    if summing:
        return sum(numbers)
    middle = statistics.median(numbers)
    return int(middle) if all(isinstance(v, int) for v in numbers) and middle == int(middle) else middle


# The throughput rows whose per-round ratios are listed after the table of medians.
ROUND_ROWS = [row for row in ROWS if row[3] and row[0] in ("1", "2", "3", "4")]


def round_ratios(runs: dict, scenarios: set[str]) -> str:
    """Pier's ratio to nginx and to HAProxy in each round, for each throughput row."""
    lines = []
    for key, label, path, _, _, _ in ROUND_ROWS:
        if key not in scenarios:
            continue
        per_target = runs.get(key, {})
        pier = per_target.get("pier", [])
        parts = []
        for other in ("nginx", "haproxy", BASELINE):
            theirs = per_target.get(other, [])
            ratios = [_ratio(_dig(p, path), _dig(o, path)) for p, o in zip(pier, theirs)]
            if ratios:
                parts.append(f"pier/{'base' if other == BASELINE else other} " + " ".join(ratios))
        if parts:
            lines.append(f"{label}, each round: " + "; ".join(parts))
    return "\n".join(lines)


def errors_of(result: dict) -> int:
    errors = result.get("errors", 0)
    if isinstance(errors, dict):
        return int(sum(errors.values()))
    return int(errors)


def table(results: dict, scenarios: set[str]) -> str:
    with_base = any(BASELINE in per_target for per_target in results.values() if isinstance(per_target, dict))
    targets = (*TARGETS, BASELINE) if with_base else TARGETS
    header = ["figure", *targets, "pier/nginx", "pier/haproxy", "pier/direct", *(["pier/base"] if with_base else [])]
    lines = []
    for key, label, path, higher, scale, fmt in ROWS:
        if key.rstrip("b") not in scenarios:
            continue
        per_target = results.get(key, {})
        values = {t: _dig(per_target.get(t), path) for t in targets}
        arrow = "(higher better)" if higher else "(lower better)"
        lines.append([f"{label} {arrow}", *(_cell(values[t], scale, fmt) for t in targets),
                      _ratio(values["pier"], values["nginx"]), _ratio(values["pier"], values["haproxy"]),
                      _ratio(values["pier"], values["direct"]),
                      *([_ratio(values["pier"], values[BASELINE])] if with_base else [])])
    if "7" in scenarios and "7" in results:
        scale = results["7"].get("pier", {})
        if scale:
            edit = scale["edit_to_applied_ms"]
            dashes = ["-"] * (len(header) - 3)
            lines.append([f"7 scale {scale['ingresses']} Ingresses: first snapshot s", "-",
                          f"{scale['first_snapshot_s']:.2f}", *dashes])
            lines.append(["7 scale  controller RSS MiB", "-", f"{scale['controller_rss_bytes'] / 2**20:.0f}", *dashes])
            lines.append(["7 scale  edit-to-applied p50/p99 ms", "-", f"{edit['p50']:.0f}/{edit['p99']:.0f}", *dashes])
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]

    def fmt_row(row: list) -> str:
        return "  ".join(str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(row))

    out = [fmt_row(header), "  ".join("-" * w for w in widths)]
    out.extend(fmt_row(row) for row in lines)
    return "\n".join(out)


def metrics_cost_lines(cost: list[dict], results: dict) -> str:
    lines = []
    pier_http = (results.get("1") or {}).get("pier") or {}
    pier_ws = (results.get("2") or {}).get("pier") or {}
    per_request = pier_http.get("proxy_cpu_us_per_request")
    per_message = pier_ws.get("proxy_cpu_us_per_message")
    for row in cost:
        text = (f"metrics cost on {row['threads']} thread(s): {row['ns_per_request']:.0f} ns per request, "
                f"{row['ns_per_message']:.0f} ns per message")
        if per_request:
            text += f"; {100 * row['ns_per_request'] / (per_request * 1000):.1f}% of Pier's CPU per request (scenario 1)"
        if per_message:
            text += f", {100 * row['ns_per_message'] / (per_message * 1000):.1f}% per message (scenario 2)"
        lines.append(text)
    return "\n".join(lines)
