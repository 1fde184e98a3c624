"""The metric names Pier exports, read from docs/metrics.md (whose tables are generated from the
processes' registries and checked by the `metrics_doc_is_fresh` unit test), and the metric names
a PromQL expression uses."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_FILES = REPO_ROOT / "charts" / "pier" / "files"
METRICS_DOC = REPO_ROOT / "docs" / "metrics.md"

# DESIGN.md names these, the alert rules and the dashboard already query them, and TLS termination
# in the dataplane registers them; until it does they are accepted here and nowhere else.
# test_not_yet_exported_metrics_are_not_exported fails once they appear in the catalog: then delete
# them from this list.
NOT_YET_EXPORTED: dict[str, str] = {}

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# A pier_ identifier that is not part of a longer word; label names never start with pier_.
_METRIC = re.compile(r"(?<![A-Za-z0-9_:])pier_[a-z0-9_]+")
# A row of a generated table: | `name` | type | labels | help |
_CATALOG_ROW = re.compile(r"^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary|untyped) \|", re.M)


def exported_metrics() -> dict[str, str]:
    """name -> type (counter, gauge, histogram) of every metric in docs/metrics.md's tables."""
    return dict(_CATALOG_ROW.findall(METRICS_DOC.read_text()))


def known_metrics() -> dict[str, str]:
    """What dashboards and rules may query: the exported metrics plus NOT_YET_EXPORTED."""
    return {**NOT_YET_EXPORTED, **exported_metrics()}


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
