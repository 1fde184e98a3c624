"""An upstream that dies in the middle of a response body.

The client must be able to tell: the proxy has already sent the status line, so it cannot answer
502 any more; what it must never do is finish the message as if it were whole (a last chunk
after a truncated chunked body, or a connection left open and reused after fewer bytes than
Content-Length). Pier closes the client connection at the point the upstream stopped.
"""

from __future__ import annotations

import socket
import threading

import pytest

import manifests as m
from harness import PierStack

RESPONSES = {
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    "/length": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello",
}


class DyingUpstream:
    """Answers each request with the head and part of the body of RESPONSES[path], then closes."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with sock:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    path = data.split(b" ", 2)[1].decode()
                    sock.sendall(RESPONSES.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))

    def close(self) -> None:
        self._listener.close()


@pytest.fixture(scope="module")
def stack(module_launcher, tmp_path_factory):
    upstream = DyingUpstream()
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("truncated"))
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(*m.service_with_backends("dying", [upstream.port]),
                                              m.ingress("app", [("/", "dying")])))
    stack.start()
    yield stack
    upstream.close()


def read_until_closed(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: app.test\r\n\r\n".encode())
        received = b""
        while True:
            chunk = sock.recv(4096)  # a timeout here means the proxy kept the connection open
            if not chunk:
                return received
            received += chunk


def test_truncated_chunked_body_is_not_finished_for_the_client(stack):
    received = read_until_closed(stack.http_port, "/chunked")
    assert received.startswith(b"HTTP/1.1 200"), received
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"hello" in body
    assert not body.endswith(b"0\r\n\r\n"), f"the proxy sent a last chunk for a cut body: {body!r}"


def test_body_shorter_than_its_content_length_ends_the_client_connection(stack):
    received = read_until_closed(stack.http_port, "/length")
    assert received.startswith(b"HTTP/1.1 200"), received
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"content-length: 100" in head.lower()
    assert body == b"hello"
