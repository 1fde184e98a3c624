"""Helpers for the chart tests: find helm, render the chart, pick objects out of the result.

helm is the pinned build from tools/kube-tools.sh (the same one the e2e harness uses), so
rendering is identical on every machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "pier"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
RELEASE = "pier"
NAMESPACE = "pier-system"
HELM_TIMEOUT_S = 60

sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
from kubeharness import KubeToolsUnavailable, kube_tools_bin_dir  # noqa: E402


def helm_path() -> Path:
    """The cached helm; raises KubeToolsUnavailable when tools/kube-tools.sh cannot make it."""
    path = kube_tools_bin_dir() / "helm"
    if not os.access(path, os.X_OK):
        raise KubeToolsUnavailable(f"{path} is missing")
    return path


class Helm:
    def __init__(self, path: Path, home: Path):
        self.path = path
        # Keep helm's config, cache and data out of the user's home directory.
        self.env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        self.env.update(HELM_CACHE_HOME=str(home / "cache"), HELM_CONFIG_HOME=str(home / "config"),
                        HELM_DATA_HOME=str(home / "data"))

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.path), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=self.env,
                              timeout=HELM_TIMEOUT_S, check=False)

    def template_text(self, *args: str, release: str = RELEASE,
                      namespace: str = NAMESPACE) -> str:
        result = self.run("template", release, str(CHART), "--namespace", namespace, *args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def template(self, *args: str, **kwargs) -> list[dict]:
        """Renders the chart and returns its objects (empty documents dropped)."""
        return [doc for doc in yaml.safe_load_all(self.template_text(*args, **kwargs)) if doc]


def kinds(objects: list[dict]) -> list[str]:
    return sorted(obj["kind"] for obj in objects)


def find(objects: list[dict], kind: str, name: str | None = None) -> dict:
    matches = [o for o in objects
               if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def find_all(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def container(workload: dict) -> dict:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def args_of(workload: dict) -> list[str]:
    return container(workload)["args"]
