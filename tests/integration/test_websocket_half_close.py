"""Half-close through a tunnel: a client that shuts down its sending side (TCP FIN) still gets
everything the upstream sends afterwards; the FIN is passed on, not turned into a full close.

The upstream is a raw socket server here: after the 101 it echoes frames until it sees EOF,
then sends one last frame and closes - only possible if the proxy kept the other direction open.

Once the WebSocket closing handshake is complete (a close frame each way), nothing may follow,
so the first FIN closes both connections; with only one close frame the FIN stays a half-close.
The upstream's close frame that completes the handshake reaches a plain client together with
the proxy's FIN: the server end closes first, without waiting for the upstream's FIN."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from wsutil import answer_upgrade, start_and_upgrade

FAREWELL = b"\x81\x03bye"
CLIENT_CLOSE = b"\x88\x82\x00\x00\x00\x00\x03\xe8"  # close 1000, masked with a zero key
UPSTREAM_CLOSE = b"\x88\x02\x03\xe8"  # close 1000 from the server, unmasked


class HalfCloseUpstream:
    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        sock, _ = self.listener.accept()
        with sock:
            answer_upgrade(sock)
            while True:
                data = sock.recv(4096)
                if not data:
                    break
                self.received += data
            sock.sendall(FAREWELL)

    def close(self):
        self.listener.close()


class ClosingUpstream:
    """Reads the client's close frame, answers it with its own close frame (or not), shuts down
    its sending side (unless send_fin is False: it then waits for the other end to close first)
    and notes when its own read side sees EOF."""

    def __init__(self, answer_close: bool, send_fin: bool = True):
        self.answer_close = answer_close
        self.send_fin = send_fin
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.fin_sent = threading.Event()
        self.eof_at: float | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        sock, _ = self.listener.accept()
        with sock:
            data = answer_upgrade(sock)
            while len(data) < len(CLIENT_CLOSE):
                chunk = sock.recv(4096)
                if not chunk:
                    return
                data += chunk
            assert data == CLIENT_CLOSE
            if self.answer_close:
                sock.sendall(UPSTREAM_CLOSE)
            if self.send_fin:
                sock.shutdown(socket.SHUT_WR)
                self.fin_sent.set()
            sock.settimeout(10)
            try:
                while sock.recv(4096):
                    pass
                self.eof_at = time.monotonic()
            except OSError:
                self.eof_at = time.monotonic()

    def close(self):
        self.listener.close()


def read_to_eof(sock: socket.socket, data: bytes = b"") -> bytes:
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize("answer_close", [True, False], ids=["closing-handshake-done", "one-close-frame"])
def test_after_the_closing_handshake_the_first_fin_closes_both_sides(stack, answer_close):
    upstream = ClosingUpstream(answer_close)
    try:
        client, rest = start_and_upgrade(stack, upstream.port)
        with client:
            client.sendall(CLIENT_CLOSE)
            # The upstream's FIN reaches the client either way (with its close frame, if any).
            assert read_to_eof(client, rest) == (UPSTREAM_CLOSE if answer_close else b"")
            assert upstream.fin_sent.wait(5)
            # The client keeps its socket open. Both close frames seen: the proxy closes the
            # upstream connection at once. One close frame only: the upstream's side stays open
            # (a half-close) until the client sends its own FIN.
            upstream.thread.join(timeout=1.5)
            client_open_until = time.monotonic()
            if answer_close:
                assert upstream.eof_at is not None and upstream.eof_at < client_open_until
            else:
                assert upstream.eof_at is None
        upstream.thread.join(timeout=5)
        assert upstream.eof_at is not None
    finally:
        upstream.close()


def test_client_fin_is_passed_on_and_the_upstream_can_still_answer(stack):
    upstream = HalfCloseUpstream()
    try:
        client, rest = start_and_upgrade(stack, upstream.port)
        with client:
            masked_hi = b"\x81\x82\x00\x00\x00\x00hi"  # "hi", masked with a zero key
            client.sendall(masked_hi)
            client.shutdown(socket.SHUT_WR)
            rest = read_to_eof(client, rest)
        assert rest == FAREWELL
        assert upstream.received == masked_hi
    finally:
        upstream.close()


def test_the_close_frame_that_ends_the_handshake_comes_with_the_proxys_fin(stack):
    """The upstream answers the client's close frame but leaves its TCP connection open (a
    server may wait for the client to close first). The proxy, as the server end, sends the
    answer and its FIN at once; the client's FIN then ends the upstream connection too."""
    upstream = ClosingUpstream(answer_close=True, send_fin=False)
    try:
        client, rest = start_and_upgrade(stack, upstream.port)
        with client:
            client.sendall(CLIENT_CLOSE)
            client.settimeout(3)  # the upstream never sends its FIN: without the proxy's, this times out
            assert read_to_eof(client, rest) == UPSTREAM_CLOSE
            assert not upstream.fin_sent.is_set()
            assert upstream.eof_at is None  # the upstream connection stays until the client's FIN
        upstream.thread.join(timeout=5)
        assert upstream.eof_at is not None
    finally:
        upstream.close()
