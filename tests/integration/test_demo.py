"""`./dev demo` itself: it comes up, prints a URL that serves the chat, and stops everything."""

import json
import os
import re
import selectors
import signal
import subprocess
import time

import pytest
from websockets.sync.client import connect

from harness import REPO_ROOT, bin_dir
from rawhttp import request

URL_LINE = re.compile(r"Pier demo is up: (http://127\.0\.0\.1:(\d+)/)")
DEMO_TIMEOUT_S = 60


def demo_env(**extra) -> dict:
    env = dict(os.environ, PIER_BIN_DIR=str(bin_dir()), CI="true")
    env.update(extra)
    return env


def assert_port_closed(port: int) -> None:
    with pytest.raises(OSError):
        request(port, "GET", "/", timeout=1)


def read_until_url(process: subprocess.Popen, timeout: float) -> tuple[str, int, str]:
    """Reads the demo's stdout until the URL line; returns (url, port, output so far)."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    output = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.2):
            continue
        line = process.stdout.readline()
        if not line:
            break
        output += line
        match = URL_LINE.search(line)
        if match:
            return match.group(1), int(match.group(2)), output
    raise AssertionError(f"no URL from ./dev demo within {timeout}s; output:\n{output}")


@pytest.mark.timeout(DEMO_TIMEOUT_S + 30)
def test_demo_exit_after_ready_prints_a_url_that_answered_200():
    completed = subprocess.run([str(REPO_ROOT / "dev"), "demo"], cwd=REPO_ROOT, capture_output=True, text=True,
                               env=demo_env(PIER_DEMO_EXIT_AFTER_READY="1"), timeout=DEMO_TIMEOUT_S,
                               start_new_session=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    match = URL_LINE.search(completed.stdout)
    assert match, completed.stdout
    # The demo checks the page itself before printing; the line says what it got.
    assert f"{match.group(1)}  (answered 200)" in completed.stdout
    assert "demo stopped" in completed.stderr
    assert_port_closed(int(match.group(2)))


@pytest.mark.timeout(DEMO_TIMEOUT_S + 30)
def test_demo_serves_the_chat_until_sigterm():
    process = subprocess.Popen([str(REPO_ROOT / "dev"), "demo"], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=demo_env(), start_new_session=True)
    try:
        url, port, _ = read_until_url(process, DEMO_TIMEOUT_S)
        page = request(port, "GET", "/")
        assert page.status == 200 and b"Pier chat" in page.body
        with connect(f"ws://127.0.0.1:{port}/ws/chat", open_timeout=5) as ws:
            hello = json.loads(ws.recv(timeout=5))
            assert hello["backend"] in {"chat-1", "chat-2", "chat-3"}

        # Only the script gets the signal: its trap must stop every child by itself.
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        assert "demo stopped" in output, output
        assert_port_closed(port)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
