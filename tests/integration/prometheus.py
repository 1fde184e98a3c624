"""A real Prometheus server (Debian's `prometheus`) on loopback, scraping the test's processes
every second, and a small client for its HTTP API."""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Optional

from harness import Launcher, ManagedProcess, free_port, wait_until

SCRAPE_INTERVAL_S = 1
READY_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 5.0


def prometheus_binary() -> Optional[str]:
    return shutil.which("prometheus")


class Prometheus:
    """`targets` maps a job name to the host:port whose /metrics it scrapes."""

    def __init__(self, launcher: Launcher, workdir: Path, targets: dict[str, str]):
        self.port = free_port()
        config = workdir / "prometheus.yml"
        scrape_configs = [{"job_name": job, "scrape_interval": f"{SCRAPE_INTERVAL_S}s",
                           "scrape_timeout": f"{SCRAPE_INTERVAL_S}s",
                           "static_configs": [{"targets": [address]}]} for job, address in targets.items()]
        # JSON is YAML: no YAML library needed.
        config.write_text(json.dumps({"global": {"scrape_interval": f"{SCRAPE_INTERVAL_S}s",
                                                 "evaluation_interval": f"{SCRAPE_INTERVAL_S}s"},
                                      "scrape_configs": scrape_configs}, indent=1))
        self.process: ManagedProcess = launcher.start("prometheus", [
            prometheus_binary(), f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"])
        wait_until(self._ready, READY_TIMEOUT_S, f"prometheus on port {self.port} to be ready",
                   interval=0.2, alive=self.process.check_alive)

    def _get(self, path: str, params: Optional[dict] = None):
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
            return response.status, response.read()

    def _ready(self) -> bool:
        try:
            return self._get("/-/ready")[0] == 200
        except OSError:
            return False

    def api(self, path: str, params: Optional[dict] = None) -> object:
        status, body = self._get(f"/api/v1/{path}", params)
        reply = json.loads(body)
        if status != 200 or reply.get("status") != "success":
            raise ValueError(f"prometheus {path} {params}: {reply}")
        return reply["data"]

    def query(self, expr: str) -> list[dict]:
        """The instant vector of `expr` now: a list of {"metric": labels, "value": [t, "v"]}."""
        data = self.api("query", {"query": expr})
        assert data["resultType"] == "vector", data
        return data["result"]

    def values_by(self, expr: str, *labels: str) -> dict:
        """{label values tuple (or the one value): float} for every series of `expr`."""
        values = {}
        for series in self.query(expr):
            key = tuple(series["metric"].get(label, "") for label in labels)
            values[key[0] if len(key) == 1 else key] = float(series["value"][1])
        return values

    def scalar(self, expr: str) -> float:
        result = self.query(expr)
        assert len(result) == 1, f"{expr}: {result}"
        return float(result[0]["value"][1])

    def wait_for_scrapes_after(self, moment: float, jobs: tuple[str, ...], timeout: float = 30.0) -> None:
        """Returns once every job was scraped successfully after `moment` (Unix time): the
        timestamp of a target's `up` sample is the time of its last scrape."""
        def scraped() -> bool:
            up = self.values_by("up", "job")
            stamps = self.values_by("timestamp(up)", "job")
            return all(up.get(job) == 1 and stamps.get(job, 0) > moment for job in jobs)
        wait_until(scraped, timeout, f"a successful scrape of {', '.join(jobs)} after {moment:.3f}",
                   interval=0.2, alive=self.process.check_alive)
