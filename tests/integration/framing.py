"""Raw-socket helpers for the framing tests: send bytes exactly as given, read what comes back
until the proxy closes (or a deadline), and say whether it closed."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

CLOSE_WAIT_S = 3.0


@dataclass
class RawExchange:
    status: int
    data: bytes
    closed: bool  # the proxy closed the connection after its answer

    def header(self, name: str):
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        for line in head:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def status_of(data: bytes) -> int:
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise AssertionError(f"no status line in {data[:200]!r}")
    return int(parts[1])


def exchange(port: int, raw: bytes, wait: float = CLOSE_WAIT_S) -> RawExchange:
    """Sends `raw` and reads until the proxy closes the connection or `wait` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(raw)
        data = b""
        closed = False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
    return RawExchange(status_of(data) if data else 0, data, closed)
