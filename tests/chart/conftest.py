"""Fixtures for the chart tests. Every test has a timeout; PIER_TEST_TIMEOUT overrides it."""

from __future__ import annotations

import os

import pytest

from chartlib import Helm, KubeToolsUnavailable, helm_path

DEFAULT_TIMEOUT_S = int(os.environ.get("PIER_TEST_TIMEOUT", "60"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))


@pytest.fixture(scope="session")
def helm(tmp_path_factory) -> Helm:
    try:
        path = helm_path()
    except KubeToolsUnavailable as error:
        pytest.skip(f"no helm: {error}")
    return Helm(path, tmp_path_factory.mktemp("helm-home"))
