"""Every asset test has a timeout; PIER_TEST_TIMEOUT overrides it."""

import os

import pytest

DEFAULT_TIMEOUT_S = int(os.environ.get("PIER_TEST_TIMEOUT", "60"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))
