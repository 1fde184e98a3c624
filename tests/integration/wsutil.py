"""WebSocket helpers for the tunnel tests: an echo server in this process that records how each
connection was closed (so a test can see the close frame the proxy sent upstream), and a loop
thread so many asyncio clients can run beside the synchronous test code."""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass
from typing import Optional

from websockets.asyncio.server import serve


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
