"""Shared fixtures for the integration suite.

- `launcher` / `module_launcher`: start processes that are always stopped afterwards (process
  groups, SIGTERM then SIGKILL), even when the test fails or times out.
- On failure, the tail of every live process' log is attached to the report.
- A sanitizer report in any log fails the test that owned the process.
- Every test has a timeout (pytest-timeout); PIER_TEST_TIMEOUT overrides the default.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import manifests as m
from harness import Blackhole, Launcher, PierStack, free_port
from scenarios import app_ingress

DEFAULT_TIMEOUT_S = int(os.environ.get("PIER_TEST_TIMEOUT", "60"))

# Launchers whose processes are running now; their logs go into failure reports.
_live_launchers: list[Launcher] = []


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when in ("setup", "call") and report.failed:
        for launcher in _live_launchers:
            logs = launcher.logs_for_report()
            if logs:
                report.sections.append((f"pier process logs ({launcher.log_dir})", logs))


def _managed_launcher(log_dir: Path):
    launcher = Launcher(log_dir)
    _live_launchers.append(launcher)
    try:
        yield launcher
    finally:
        _live_launchers.remove(launcher)
        reports = launcher.stop_all()
        if reports:
            pytest.fail("sanitizer reports in process logs:\n" + "\n".join(reports), pytrace=False)


@pytest.fixture
def launcher(tmp_path):
    yield from _managed_launcher(tmp_path / "logs")


@pytest.fixture(scope="module")
def module_launcher(tmp_path_factory, request):
    yield from _managed_launcher(tmp_path_factory.mktemp(request.module.__name__) / "logs")


@pytest.fixture(scope="session")
def session_launcher(tmp_path_factory):
    yield from _managed_launcher(tmp_path_factory.mktemp("session") / "logs")


@pytest.fixture
def stack(launcher, tmp_path) -> PierStack:
    """A stack with nothing started yet: tests write manifests, start backends, then start()."""
    return PierStack(launcher, tmp_path)


@pytest.fixture(scope="session")
def proxy(session_launcher, tmp_path_factory) -> PierStack:
    """One shared stack for tests that only read: three chat backends behind `chat`, and a
    route for each way a request can fail.

        /  (Exact), /ws/, /headers, /status/   -> chat (chat-1, chat-2, chat-3)
        /empty                                 -> a Service whose EndpointSlice has no endpoints
        /refused                               -> an endpoint on a port nothing listens on
        /blackhole                             -> an endpoint whose TCP handshake never completes,
                                                  with proxy-connect-timeout 200ms
        anything else                          -> no route
    """
    stack = PierStack(session_launcher, tmp_path_factory.mktemp("proxy"))
    backends = [stack.start_backend(f"chat-{i}") for i in (1, 2, 3)]
    blackhole = Blackhole()
    refused_port = free_port()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("chat.yaml", m.render(
        *m.service_with_backends("chat", [b.port for b in backends]),
        m.ingress("chat", [("/", "chat", "Exact"), ("/ws/", "chat"), ("/headers", "chat"), ("/status/", "chat")],
                  annotations={"pier.dev/websocket-idle-timeout": "3600s"})))
    stack.write_manifest("errors.yaml", m.render(
        m.service("empty"), m.endpoint_slice("empty", "empty", None),
        *m.service_with_backends("refused", [refused_port]),
        m.ingress("errors", [("/empty", "empty"), ("/refused", "refused")])))
    stack.write_manifest("blackhole.yaml", m.render(
        *m.service_with_backends("blackhole", [blackhole.port]),
        m.ingress("blackhole", [("/blackhole", "blackhole")],
                  annotations={"pier.dev/proxy-connect-timeout": "200ms"})))
    stack.start()
    yield stack
    blackhole.close()


@pytest.fixture
def two_services(stack) -> PierStack:
    """A fresh stack of its own (tests here change config and kill processes): backend chat-a
    behind svc-a, chat-b behind svc-b, and the `app` Ingress (app.yaml) routing /switch to svc-a."""
    a = stack.start_backend("chat-a")
    b = stack.start_backend("chat-b")
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("services.yaml", m.render(*m.service_with_backends("svc-a", [a.port]),
                                                   *m.service_with_backends("svc-b", [b.port])))
    stack.write_manifest("app.yaml", app_ingress("svc-a"))
    return stack.start()

