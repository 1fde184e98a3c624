"""WebSocket helpers for the tunnel tests: an echo server in this process that records how each
connection was closed (so a test can see the close frame the proxy sent upstream), a loop
thread so many asyncio clients can run beside the synchronous test code, and the raw side of a
tunnel (an upgrade answered or made by hand on a plain socket) for tests that need byte-level
control of a peer."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Optional

from websockets.asyncio.server import serve

import manifests as m

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ACCEPT = base64.b64encode(hashlib.sha1((KEY + GUID).encode()).digest()).decode()


def answer_upgrade(sock: socket.socket) -> bytes:
    """Reads the upgrade request and answers 101; returns what came after the request."""
    request = b""
    while b"\r\n\r\n" not in request:
        request += sock.recv(4096)
    sock.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n".encode())
    return request.split(b"\r\n\r\n", 1)[1]


def start_and_upgrade(stack, upstream_port: int, rcvbuf: int = 0) -> tuple[socket.socket, bytes]:
    """Routes /ws/ to a raw upstream on `upstream_port`, starts Pier and upgrades one client
    connection (with that SO_RCVBUF, set before it connects, when `rcvbuf` is given); returns it
    and what came after the 101."""
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(*m.service_with_backends("raw", [upstream_port]),
                                              m.ingress("app", [("/ws/", "raw")])))
    stack.start()
    client = socket.socket()
    client.settimeout(5)
    if rcvbuf:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    client.connect(("127.0.0.1", stack.http_port))
    client.sendall(f"GET /ws/raw HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                   f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101")
    return client, answer.split(b"\r\n\r\n", 1)[1]


@dataclass
class ClosedConnection:
    path: str
    code: Optional[int]  # code of the close frame received from the proxy; None: no close frame


class ThreadedServer:
    """A websockets server on its own asyncio loop thread; subclasses give `_handler` and may
    add options for `serve`. `port` is set once it listens."""

    def __init__(self, **serve_options):
        self._serve_options = serve_options
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: Optional[asyncio.Future] = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")

    async def _handler(self, ws):
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main():
            self._stop = self._loop.create_future()
            async with serve(self._handler, "127.0.0.1", 0, ping_interval=None, **self._serve_options) as server:
                self.port = server.sockets[0].getsockname()[1]
                self._ready.set()
                await self._stop

        self._loop.run_until_complete(main())

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))
        self._thread.join(timeout=10)


class EchoServer(ThreadedServer):
    """Echoes every message; records the close frame each connection received.

    With `ssl_context` it serves wss (a TLS backend); with `http_reply` a request that is not an
    upgrade gets 200 and that text instead of 426."""

    def __init__(self, ssl_context: Optional[ssl.SSLContext] = None, http_reply: Optional[str] = None):
        self._http_reply = http_reply
        self.closed: list[ClosedConnection] = []
        self.open_count = 0
        super().__init__(max_size=None, ssl=ssl_context, process_request=self._process_request)

    async def _handler(self, ws):
        self.open_count += 1
        try:
            async for message in ws:
                await ws.send(message)
        except Exception:  # noqa: BLE001 - any end of the connection is recorded below
            pass
        finally:
            received = ws.protocol.close_rcvd
            self.closed.append(ClosedConnection(ws.request.path, received.code if received else None))

    def _process_request(self, connection, request):
        if self._http_reply is None or request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        return connection.respond(200, self._http_reply)


class LoopThread:
    """An asyncio loop on its own thread; submit() runs a coroutine there and returns a future."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def submit(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine, timeout: float):
        return self.submit(coroutine).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
