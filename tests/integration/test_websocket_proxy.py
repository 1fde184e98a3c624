"""WebSockets through the dataplane: the classic recipe's checks, done by real clients."""

import contextlib
import json
import os
import subprocess

from websockets.sync.client import connect

BACKENDS = {"chat-1", "chat-2", "chat-3"}
# RFC 6455 1.3: base64(SHA-1(key + GUID)) for the key the curl recipe sends.
CURL_KEY = "SGVsbG8sIHdvcmxkIQ=="
CURL_ACCEPT = "qGEgH3En71di5rrssAZTmtRTyFk="


def test_echo_text_and_binary(proxy):
    with connect(proxy.url("/ws/echo", scheme="ws"), open_timeout=5, close_timeout=2) as ws:
        for i in range(20):
            ws.send(f"message {i}")
            assert ws.recv(timeout=5) == f"message {i}"
        payload = os.urandom(200 * 1024)  # bigger than any proxy buffer: must be streamed
        ws.send(payload)
        assert ws.recv(timeout=5) == payload


def test_echo_every_size_around_the_first_read(proxy):
    # A plain tunnel direction first reads up to 128 bytes and continues in a chunk buffer when
    # that read comes back full: every size across that edge (and across the chunk's) must come
    # back whole, in order, one after another and also queued behind each other.
    sizes = list(range(100, 160)) + [1023, 1024, 1025, 16 * 1024 - 8, 16 * 1024, 16 * 1024 + 8]
    with connect(proxy.url("/ws/echo", scheme="ws"), open_timeout=5, close_timeout=2) as ws:
        for size in sizes:
            payload = os.urandom(size)
            ws.send(payload)
            assert ws.recv(timeout=5) == payload, size
        payloads = [os.urandom(size) for size in sizes]
        for payload in payloads:
            ws.send(payload)
        for payload in payloads:
            assert ws.recv(timeout=5) == payload


def test_curl_handshake_gets_101(proxy):
    completed = subprocess.run(
        ["curl", "-v", "-N", "--max-time", "2",
         "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
         "-H", f"Sec-WebSocket-Key: {CURL_KEY}", "-H", "Sec-WebSocket-Version: 13",
         proxy.url("/ws/")],
        capture_output=True, text=True, timeout=10)
    # -N keeps the upgraded connection open until --max-time: exit 28 is the expected end.
    assert completed.returncode in (0, 28), completed.stderr
    received = [line[2:] for line in completed.stderr.splitlines() if line.startswith("< ")]
    assert received and received[0].startswith("HTTP/1.1 101"), completed.stderr
    assert any(line.lower() == f"sec-websocket-accept: {CURL_ACCEPT}".lower() for line in received), received


def test_chat_page_and_hello(proxy):
    page = proxy.get("/")
    assert page.status == 200
    assert b"/ws/chat" in page.body
    with connect(proxy.url("/ws/chat", scheme="ws"), open_timeout=5) as alice:
        hello = json.loads(alice.recv(timeout=5))
        assert hello["type"] == "hello" and hello["backend"] in BACKENDS
        alice.send(json.dumps({"name": "alice", "text": "hello through pier"}))
        message = json.loads(alice.recv(timeout=5))
        assert (message["type"], message["text"], message["backend"]) == ("message", "hello through pier",
                                                                          hello["backend"])


def test_many_concurrent_tunnels(proxy):
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(proxy.url("/ws/echo", scheme="ws"), open_timeout=5))
                   for _ in range(30)]
        for i, ws in enumerate(sockets):
            ws.send(f"hi {i}")
        for i, ws in enumerate(sockets):
            assert ws.recv(timeout=5) == f"hi {i}"
