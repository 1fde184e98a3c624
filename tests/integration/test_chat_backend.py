"""The chat backend on its own: the endpoints the other tests and the demo rely on."""

import json
import socket
import time

import pytest
from websockets.sync.client import connect

from harness import binary, free_port, wait_until
from rawhttp import Connection, format_request, request

KEY = "SGVsbG8sIHdvcmxkIQ=="
UPGRADE_HEADERS = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": KEY,
                   "Sec-WebSocket-Version": "13"}


@pytest.fixture(scope="module")
def backend(module_launcher):
    port = free_port()
    process = module_launcher.start("chat-1", [binary("pier-chat-backend"), "--listen", f"127.0.0.1:{port}",
                                        "--name", "chat-1"])
    wait_until(lambda: request(port, "GET", "/healthz").status == 200, 10, "the backend",
               alive=process.check_alive)
    return port


def test_page_and_health(backend):
    page = request(backend, "GET", "/")
    assert page.status == 200
    assert page.header("content-type").startswith("text/html")
    assert b"/ws/chat" in page.body
    assert page.header("x-backend") == "chat-1"
    assert request(backend, "GET", "/healthz").text == "ok\n"
    assert request(backend, "GET", "/nope").status == 404


def test_headers_reports_what_it_received(backend):
    response = request(backend, "GET", "/headers?x=1", headers={"X-Forwarded-For": "10.0.0.1", "Host": "a.example"})
    seen = response.json()
    assert seen["backend"] == "chat-1"
    assert seen["target"] == "/headers?x=1"
    assert seen["headers"]["host"] == "a.example"
    assert seen["headers"]["x-forwarded-for"] == "10.0.0.1"
    assert ["x-forwarded-for", "10.0.0.1"] in seen["header_list"]


@pytest.mark.parametrize("status", [200, 201, 204, 302, 404, 429, 500, 503])
def test_status_endpoint(backend, status):
    assert request(backend, "GET", f"/status/{status}").status == status


@pytest.mark.parametrize("bad", ["99", "1000", "abc", "600", "20x"])
def test_status_endpoint_rejects_garbage(backend, bad):
    assert request(backend, "GET", f"/status/{bad}").status == 400


@pytest.mark.parametrize("path,status", [("/ws/reject-400", 400), ("/ws/reject-426", 426)])
def test_refused_upgrade_keeps_the_connection_usable(backend, path, status):
    with Connection(backend) as connection:
        connection.send(format_request("GET", path, UPGRADE_HEADERS) + format_request("GET", "/healthz"))
        refused = connection.read_response()
        assert refused.status == status
        assert connection.read_response().text == "ok\n"


def test_echo_text_and_binary(backend):
    with connect(f"ws://127.0.0.1:{backend}/ws/echo", open_timeout=5) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        ws.send(b"\x00\x01\xff")
        assert ws.recv(timeout=5) == b"\x00\x01\xff"


def test_chat_hello_and_broadcast(backend):
    with connect(f"ws://127.0.0.1:{backend}/ws/chat", open_timeout=5) as alice, \
            connect(f"ws://127.0.0.1:{backend}/ws/chat", open_timeout=5) as bob:
        hello = json.loads(alice.recv(timeout=5))
        assert hello["type"] == "hello" and hello["backend"] == "chat-1"
        assert json.loads(bob.recv(timeout=5))["type"] == "hello"
        alice.send(json.dumps({"name": "alice", "text": "hi"}))
        for ws in (alice, bob):
            message = json.loads(ws.recv(timeout=5))
            assert (message["type"], message["name"], message["text"]) == ("message", "alice", "hi")


def test_garbage_does_not_kill_it(backend):
    for junk in [b"\x00\x01\x02\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
                 b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n"]:
        with Connection(backend) as connection:
            connection.send(junk)
            try:
                assert connection.read_response().status in (400, 431)
            except ConnectionError:
                pass  # closing on garbage is fine too
    assert request(backend, "GET", "/healthz").status == 200


def test_static_dir_serves_files_and_nothing_outside(launcher, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>from disk</p>")
    (site / "app.js").write_text("console.log(1)")
    (site / ".secret").write_text("hidden")
    (tmp_path / "outside.txt").write_text("outside")
    port = free_port()
    process = launcher.start("chat-static", [binary("pier-chat-backend"), "--listen", f"127.0.0.1:{port}",
                                             "--name", "chat-static", "--static", site])
    wait_until(lambda: request(port, "GET", "/healthz").status == 200, 10, "the backend",
               alive=process.check_alive)
    assert request(port, "GET", "/").body == b"<p>from disk</p>"
    script = request(port, "GET", "/app.js")
    assert script.status == 200 and script.header("content-type").startswith("text/javascript")
    for path in ["/../outside.txt", "/.secret", "/%2e%2e/outside.txt", "//etc/passwd", "/app.js/"]:
        assert request(port, "GET", path).status == 404, path


def test_a_chat_client_that_stops_reading_is_dropped_not_buffered(backend):
    with Connection(backend, timeout=10) as slow, \
            connect(f"ws://127.0.0.1:{backend}/ws/chat", open_timeout=5) as fast:
        # A small receive buffer and no reading: the backend's queue for this client fills up.
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.send(format_request("GET", "/ws/chat", UPGRADE_HEADERS))
        assert slow.read_response().status == 101
        fast_id = json.loads(fast.recv(timeout=5))["client"]

        # The sender reads its own broadcasts in batches well under the queue bound, so it never
        # falls behind; ~22 MB is far more than socket buffers plus a 256-message queue.
        text, batch = "x" * 15000, 50
        for _ in range(1500 // batch):
            for _ in range(batch):
                fast.send(text)
            for _ in range(batch):
                assert json.loads(fast.recv(timeout=5))["from"] == fast_id

        # The slow client now finds a bounded backlog and then the end of the connection (a
        # large buffer again, so that backlog arrives at loopback speed).
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        received = 0
        started = time.monotonic()
        try:
            while chunk := slow.sock.recv(1 << 16):
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert time.monotonic() - started < 8, "the slow client was never disconnected"
        assert received < 12 * 1024 * 1024, f"{received} bytes were buffered for a client that did not read"

        fast.send("still fine")
        assert json.loads(fast.recv(timeout=5))["text"] == "still fine"
