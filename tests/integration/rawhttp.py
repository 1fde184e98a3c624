"""A small HTTP/1.1 client over a plain socket.

The tests need what ordinary clients hide: pipelined requests on one connection, the exact
status line, duplicate headers, and responses to upgrade requests that were not upgraded.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Optional

MAX_LINE = 64 * 1024


@dataclass
class Response:
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> Optional[str]:
        """The first value of a header (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Connection:
    """One TCP connection: send raw bytes, read responses one by one."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._reader = self.sock.makefile("rb")

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._reader.close()
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _line(self) -> bytes:
        line = self._reader.readline(MAX_LINE)
        if not line:
            raise ConnectionError("connection closed before a complete response")
        if not line.endswith(b"\n"):
            raise ValueError("response line too long or cut short")
        return line.rstrip(b"\r\n")

    def read_response(self, method: str = "GET") -> Response:
        status_line = self._line().decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ValueError(f"not an HTTP status line: {status_line!r}")
        response = Response(status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "",
                            version=parts[0])
        while True:
            line = self._line()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            response.headers.append((name.strip(), value.strip()))

        if method == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200:
            return response
        encoding = (response.header("transfer-encoding") or "").lower()
        length = response.header("content-length")
        if "chunked" in encoding:
            response.body = self._read_chunked()
        elif length is not None:
            response.body = self._read_exact(int(length))
        else:
            response.body = self._reader.read()  # delimited by close
        return response

    def _read_exact(self, size: int) -> bytes:
        data = self._reader.read(size)
        if len(data) != size:
            raise ConnectionError(f"body cut short: {len(data)} of {size} bytes")
        return data

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int(self._line().split(b";")[0], 16)
            if size == 0:
                while self._line():  # trailers
                    pass
                return bytes(body)
            body += self._read_exact(size)
            self._line()


def format_request(method: str, path: str, headers: Optional[dict] = None, host: str = "127.0.0.1",
                   body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1"]
    merged = {"Host": host}
    merged.update(headers or {})
    if body:
        merged["Content-Length"] = str(len(body))
    lines += [f"{name}: {value}" for name, value in merged.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def request(port: int, method: str, path: str, headers: Optional[dict] = None,
            timeout: float = 5.0, body: bytes = b"") -> Response:
    """One request on a fresh connection (Connection: close unless headers say otherwise)."""
    all_headers = {"Connection": "close"}
    all_headers.update(headers or {})
    host = all_headers.pop("Host", f"127.0.0.1:{port}")
    with Connection(port, timeout=timeout) as connection:
        connection.send(format_request(method, path, all_headers, host=host, body=body))
        return connection.read_response(method)
