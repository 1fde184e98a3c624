"""Reading one sample out of a /metrics page (Prometheus text format)."""

from __future__ import annotations

import re

from rawhttp import request

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text: str, name: str) -> list[tuple[dict, float]]:
    found = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and match.group(1) == name:
            found.append((dict(_LABEL.findall(match.group(2) or "")), float(match.group(3))))
    return found


def metric(port: int, name: str, **labels: str) -> float:
    """Sum of the samples of `name` on 127.0.0.1:port/metrics whose labels include `labels`;
    KeyError when there are none (a missing series must not read as 0)."""
    matching = [value for have, value in samples(request(port, "GET", "/metrics").text, name)
                if all(have.get(k) == v for k, v in labels.items())]
    if not matching:
        raise KeyError(f"no sample of {name} with {labels}")
    return sum(matching)
