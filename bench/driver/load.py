"""Running the load tools (pier-loadgen, wrk) and reading their results."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from procs import require_tool

TOOL_GRACE_S = 60


def cpu_times(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of these processes so far (all threads)."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            user += int(fields[11]) / ticks  # utime
            system += int(fields[12]) / ticks  # stime
        except (OSError, IndexError, ValueError):
            pass
    return user, system


def loadgen(bin_dir: Path, mode: str, url: str, connections: int, duration_s: float, size: int = 64,
            window: int = 8, threads: int = 1) -> dict:
    argv = [str(bin_dir / "pier-loadgen"), mode, "--url", url, "-c", str(connections), "-d", str(duration_s),
            "-s", str(size), "-w", str(window), "-t", str(threads), "--json"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + TOOL_GRACE_S)
    return parse_loadgen(out.stdout, out.stderr)


def parse_loadgen(stdout: str, stderr: str = "") -> dict:
    for line in reversed(stdout.strip().splitlines()):
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "mode" in result:
            return result
    raise RuntimeError(f"pier-loadgen printed no result:\n{stdout}\n{stderr}")


_UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def _micros(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(text: str) -> dict:
    result = {"requests_per_s": 0.0, "requests": 0, "errors": 0, "latency_us": {}}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Requests/sec:"):
            result["requests_per_s"] = float(line.split()[1])
        elif re.match(r"^\d+ requests in", line):
            result["requests"] = int(line.split()[0])
        elif line.startswith("Non-2xx or 3xx responses:"):
            result["errors"] += int(line.split()[-1])
        elif line.startswith("Socket errors:"):
            result["errors"] += sum(int(n) for n in re.findall(r"\b[a-z]+ (\d+)", line))
        else:
            match = re.match(r"^(50|75|90|99)%\s+(\S+)$", line)
            if match:
                result["latency_us"][f"p{match.group(1)}"] = _micros(match.group(2))
    return result


def wrk(url: str, connections: int, duration_s: float, threads: int) -> dict:
    argv = [require_tool("wrk"), f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--latency", url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + TOOL_GRACE_S)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr}")
    return parse_wrk(out.stdout)
