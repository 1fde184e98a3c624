"""A recording HTTP/1.1 backend in the test process, for tests that must know exactly what
reached the upstream (nothing, for a refused request) and must script exactly what the upstream
answers (bad framing, refused upgrades).

Every connection's raw bytes are kept; requests are parsed only as far as the scripted reply
needs. The reply comes from `respond(request) -> bytes`; the default answers 200 with the
request's method, target and headers as JSON. With `close_after_response` the recorder closes
each connection right after its first response without saying so (no `Connection: close`), as
a server with a very short keep-alive timeout does. With `answers_per_connection` N it answers
the first N requests of each connection and closes the connection on the next one, read and
recorded but never answered, as a server whose keep-alive timeout ran out while the request was
on its way.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from typing import Callable, Optional

READ_BYTES = 65536
ACCEPT_POLL_S = 0.2


@dataclass
class RecordedRequest:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class RecordedConnection:
    raw: bytearray = field(default_factory=bytearray)
    requests: list[RecordedRequest] = field(default_factory=list)
    closed_by_peer: bool = False


def answer(status: int, reason: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    """A whole HTTP/1.1 response with a Content-Length, for `respond` functions."""
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    return head.encode() + b"\r\n" + body


def ok_json(request: RecordedRequest) -> bytes:
    body = json.dumps({"method": request.method, "target": request.target,
                       "headers": {k.lower(): v for k, v in request.headers},
                       "body": request.body.decode("latin-1")}).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class _Reader:
    """Buffered reads from one socket that also record every byte."""

    def __init__(self, sock: socket.socket, record: RecordedConnection):
        self.sock = sock
        self.record = record
        self.buffer = b""

    def _fill(self) -> bool:
        data = self.sock.recv(READ_BYTES)
        if not data:
            return False
        self.record.raw += data
        self.buffer += data
        return True

    def until(self, marker: bytes) -> Optional[bytes]:
        while marker not in self.buffer:
            if not self._fill():
                return None
        index = self.buffer.index(marker) + len(marker)
        chunk, self.buffer = self.buffer[:index], self.buffer[index:]
        return chunk

    def exactly(self, size: int) -> Optional[bytes]:
        while len(self.buffer) < size:
            if not self._fill():
                return None
        chunk, self.buffer = self.buffer[:size], self.buffer[size:]
        return chunk


class Recorder:
    def __init__(self, respond: Callable[[RecordedRequest], bytes] = ok_json, close_after_response: bool = False,
                 answers_per_connection: Optional[int] = None):
        self.respond = respond
        self.close_after_response = close_after_response
        self.answers_per_connection = answers_per_connection
        self.connections: list[RecordedConnection] = []
        self._requests: list[RecordedRequest] = []  # every connection's, in arrival order
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(ACCEPT_POLL_S)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    # -- what arrived -------------------------------------------------------------------------

    def total_bytes(self) -> int:
        with self._lock:
            return sum(len(c.raw) for c in self.connections)

    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def connection_count(self) -> int:
        with self._lock:
            return len(self.connections)

    # -- serving ------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            record = RecordedConnection()
            with self._lock:
                self.connections.append(record)
                self._sockets.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock, record), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, record: RecordedConnection) -> None:
        reader = _Reader(sock, record)
        answered = 0
        try:
            while not self._stopping.is_set():
                request = self._read_request(reader)
                if request is None:
                    record.closed_by_peer = True
                    return
                with self._lock:
                    record.requests.append(request)
                    self._requests.append(request)
                if self.answers_per_connection is not None and answered >= self.answers_per_connection:
                    return  # closed without a byte of an answer
                sock.sendall(self.respond(request))
                answered += 1
                if self.close_after_response:
                    return
        except OSError:
            record.closed_by_peer = True
        finally:
            sock.close()

    @staticmethod
    def _read_request(reader: _Reader) -> Optional[RecordedRequest]:
        head = reader.until(b"\r\n\r\n")
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name.strip(), value.strip()))
        request = RecordedRequest(method, target, version, headers, b"")
        if (request.header("transfer-encoding") or "").lower() == "chunked":
            body = b""
            while True:
                size_line = reader.until(b"\r\n")
                if size_line is None:
                    return None
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    reader.until(b"\r\n")
                    break
                data = reader.exactly(size + 2)
                if data is None:
                    return None
                body += data[:-2]
            request.body = body
        elif request.header("content-length"):
            data = reader.exactly(int(request.header("content-length")))
            if data is None:
                return None
            request.body = data
        return request

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for thread in self._threads:
            thread.join(timeout=2)
        self._acceptor.join(timeout=2)
