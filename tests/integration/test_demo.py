"""`./dev demo` itself: it comes up, prints a URL that serves the chat, and stops everything."""

import json
import os
import re
import queue
import signal
import subprocess
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from harness import REPO_ROOT, bin_dir
from rawhttp import request

URL_LINE = re.compile(r"Pier demo is up: (http://127\.0\.0\.1:(\d+)/)")
DEMO_TIMEOUT_S = 60


def demo_env(tmp_path, **extra) -> dict:
    # TMPDIR: the demo's work dir lands in the test's tmp, even if the demo is killed outright.
    env = dict(os.environ, PIER_BIN_DIR=str(bin_dir()), CI="true", TMPDIR=str(tmp_path))
    env.update(extra)
    return env


def assert_port_closed(port: int) -> None:
    with pytest.raises(OSError):
        request(port, "GET", "/", timeout=1)


class OutputReader:
    """Collects a process' output on a thread (select() on a buffered pipe misses lines that are
    already buffered) so the test can wait for a line with a deadline."""

    def __init__(self, stream):
        self.lines: queue.Queue = queue.Queue()
        self.text = ""
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)  # end of output

    def wait_for(self, pattern: re.Pattern, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            self.text += line
            match = pattern.search(line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern.pattern!r} within {timeout}s; output:\n{self.text}")

    def rest(self, timeout: float) -> str:
        """Everything up to the end of output."""
        self._thread.join(timeout)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.text += line
        return self.text


@pytest.mark.timeout(DEMO_TIMEOUT_S + 30)
def test_demo_exit_after_ready_prints_a_url_that_answered_200(tmp_path):
    completed = subprocess.run([str(REPO_ROOT / "dev"), "demo"], cwd=REPO_ROOT, capture_output=True, text=True,
                               env=demo_env(tmp_path, PIER_DEMO_EXIT_AFTER_READY="1"), timeout=DEMO_TIMEOUT_S,
                               start_new_session=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    match = URL_LINE.search(completed.stdout)
    assert match, completed.stdout
    # The demo checks the page itself before printing; the line says what it got.
    assert f"{match.group(1)}  (answered 200)" in completed.stdout
    assert "demo stopped" in completed.stderr
    assert_port_closed(int(match.group(2)))
    assert not list(tmp_path.glob("pier-demo.*")), "the demo left its work dir behind"


@pytest.mark.timeout(DEMO_TIMEOUT_S + 30)
def test_demo_serves_the_chat_until_sigterm(tmp_path):
    process = subprocess.Popen([str(REPO_ROOT / "dev"), "demo"], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=demo_env(tmp_path), start_new_session=True)
    try:
        output = OutputReader(process.stdout)
        port = int(output.wait_for(URL_LINE, DEMO_TIMEOUT_S).group(2))
        page = request(port, "GET", "/")
        assert page.status == 200 and b"Pier chat" in page.body
        with connect(f"ws://127.0.0.1:{port}/ws/chat", open_timeout=5) as ws:
            hello = json.loads(ws.recv(timeout=5))
            assert hello["backend"] in {"chat-1", "chat-2", "chat-3"}

            # Only the script gets the signal: its trap must stop every child by itself, and
            # the open chat is closed by the draining dataplane (with 1001 when a close frame
            # is sent; the demo only promises the socket does not hang).
            process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is None or closed.value.rcvd.code == 1001
        assert process.wait(timeout=20) == 143  # 128 + SIGTERM, after the trap ran
        assert "demo stopped" in output.rest(timeout=5)
        assert_port_closed(port)
        assert not list(tmp_path.glob("pier-demo.*")), "the demo left its work dir behind"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
