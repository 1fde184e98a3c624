"""Reads tests/assets/known_metrics.txt and finds the metric names a PromQL expression uses."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_FILES = REPO_ROOT / "charts" / "pier" / "files"
KNOWN_METRICS_FILE = Path(__file__).with_name("known_metrics.txt")

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# A pier_ identifier that is not part of a longer word; label names never start with pier_.
_METRIC = re.compile(r"(?<![A-Za-z0-9_:])pier_[a-z0-9_]+")


def known_metrics() -> dict[str, str]:
    """name -> type (counter, gauge, histogram)."""
    metrics = {}
    for line in KNOWN_METRICS_FILE.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, kind = line.split()
            metrics[name] = kind
    return metrics


def metrics_in(expr: str) -> set[str]:
    return set(_METRIC.findall(expr))


def unknown_metrics(expr: str, known: dict[str, str]) -> set[str]:
    unknown = set()
    for name in metrics_in(expr):
        if name in known:
            continue
        base = next((name[: -len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s)), None)
        if base is None or known.get(base) != "histogram":
            unknown.add(name)
    return unknown
