"""docs/access-log.md names every field the dataplane's access log writes, and no other: the
field names are read from the formatter's source (dataplane/src/http/access_log.cc), where each
is a constant key."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FORMATTER = REPO_ROOT / "dataplane/src/http/access_log.cc"
DOC = REPO_ROOT / "docs/access-log.md"


def written_fields() -> set[str]:
    # Keys appear in the source as the C++ literal  ",\"name\":"  (or "{\"ts\":" for the first).
    return set(re.findall(r'"[,{]\\"([a-z_]+)\\":', FORMATTER.read_text()))


def documented_fields() -> set[str]:
    rows = re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), re.M)
    assert len(rows) == len(set(rows)), "a field is documented twice"
    return set(rows)


def test_the_formatter_source_is_read():
    fields = written_fields()
    assert {"ts", "type", "status", "close_reason", "user"} <= fields, fields


def test_every_written_field_is_documented_and_nothing_else():
    assert documented_fields() == written_fields()


def test_the_examples_are_json_lines_with_documented_fields_only():
    text = DOC.read_text()
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    lines = [json.loads(line) for line in block.splitlines() if line.strip()]
    assert {line["type"] for line in lines} == {"http", "websocket", "tls-passthrough"}
    for line in lines:
        assert set(line) <= documented_fields(), line
