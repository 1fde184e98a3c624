"""Backpressure through a tunnel: when one peer stops reading, the proxy's sends to it soon find
the socket full, the proxy stops reading from the other peer, and once the slow peer reads
again every byte arrives, in order, exactly once.

The messages are small and paced, so the proxy reads them one or a few at a time (short reads,
which it tries to send on at once without a write operation) while its socket toward the
stalled peer fills: the send that finds the socket full part-way has to leave the rest to a
queued write without dropping or repeating a byte. The stalled peer holds its receive buffer
small so that happens within the first few hundred kilobytes."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time

import pytest

from wsutil import answer_upgrade, start_and_upgrade

# About 5 MB each way: far more than the stalled peer's buffer and the proxy's socket buffer.
# Small messages, and messages most of a read buffer (16 KiB) long, whose sends more often find
# room for only part of them.
TOTAL_BYTES = 5_000_000
PAYLOAD_SIZES = [2000, 12000]
STALL_S = 1.5
SMALL_RCVBUF = 8192
IO_TIMEOUT_S = 30


def frames(payload_bytes: int, masked: bool) -> list[bytes]:
    """Binary frames of `payload_bytes` whose payloads differ (a sequence number and random
    bytes), TOTAL_BYTES in all, masked as a client's are or unmasked as a server's."""
    out = []
    for seq in range(TOTAL_BYTES // payload_bytes):
        payload = struct.pack(">I", seq) + os.urandom(payload_bytes - 4)
        header = bytes([0x82, (0x80 if masked else 0) | 126]) + struct.pack(">H", payload_bytes)
        if masked:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            header += key
        out.append(header + payload)
    return out


def paced_send(sock: socket.socket, messages: list[bytes], errors: list) -> None:
    """Sends one frame at a time with a short pause after each."""
    try:
        for message in messages:
            sock.sendall(message)
            time.sleep(0.0002)
    except OSError as error:
        errors.append(error)


def read_exactly(sock: socket.socket, count: int, data: bytes = b"") -> bytes:
    while len(data) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class StalledUpstream:
    """Answers the upgrade, then either reads nothing until `release` is set and then the
    client's `expected` bytes (its receive buffer held small), or sends `to_send` paced and
    keeps the connection open until `done` is set."""

    def __init__(self, expected: int = 0, to_send: list[bytes] | None = None):
        self.expected = expected
        self.to_send = to_send or []
        self.release = threading.Event()
        self.done = threading.Event()
        self.received = b""
        self.errors: list = []
        self.listener = socket.socket()
        # Accepted sockets inherit it; set before listen() it also bounds the window offered.
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RCVBUF)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        with sock:
            sock.settimeout(IO_TIMEOUT_S)
            try:
                rest = answer_upgrade(sock)
                if self.to_send:
                    paced_send(sock, self.to_send, self.errors)
                    self.done.wait(IO_TIMEOUT_S)
                    return
                self.release.wait(IO_TIMEOUT_S)
                self.received = read_exactly(sock, self.expected, rest)
            except OSError as error:
                self.errors.append(error)

    def close(self):
        self.done.set()
        self.release.set()
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.mark.parametrize("payload_bytes", PAYLOAD_SIZES)
def test_a_stalled_upstream_gets_every_byte_once_it_reads(stack, payload_bytes):
    messages = frames(payload_bytes, masked=True)
    stream = b"".join(messages)
    upstream = StalledUpstream(expected=len(stream))
    try:
        client, rest = start_and_upgrade(stack, upstream.port)
        with client:
            assert rest == b""
            client.settimeout(IO_TIMEOUT_S)
            errors: list = []
            sender = threading.Thread(target=paced_send, args=(client, messages, errors), daemon=True)
            sender.start()
            time.sleep(STALL_S)
            # The proxy cannot have delivered: the upstream has not read a byte yet.
            assert upstream.received == b""
            upstream.release.set()
            sender.join(timeout=IO_TIMEOUT_S)
            assert not sender.is_alive() and errors == []
            upstream.thread.join(timeout=IO_TIMEOUT_S)
        assert upstream.errors == []
        assert len(upstream.received) == len(stream)
        assert upstream.received == stream
    finally:
        upstream.close()


@pytest.mark.parametrize("payload_bytes", PAYLOAD_SIZES)
def test_a_stalled_client_gets_every_byte_once_it_reads(stack, payload_bytes):
    messages = frames(payload_bytes, masked=False)
    stream = b"".join(messages)
    upstream = StalledUpstream(to_send=messages)
    try:
        client, rest = start_and_upgrade(stack, upstream.port, rcvbuf=SMALL_RCVBUF)
        with client:
            client.settimeout(IO_TIMEOUT_S)
            time.sleep(STALL_S)  # the upstream sends on while the client reads nothing
            received = read_exactly(client, len(stream), rest)
            upstream.done.set()
        upstream.thread.join(timeout=IO_TIMEOUT_S)
        assert upstream.errors == []
        assert len(received) == len(stream)
        assert received == stream
    finally:
        upstream.close()
