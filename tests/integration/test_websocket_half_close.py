"""Half-close through a tunnel: a client that shuts down its sending side (TCP FIN) still gets
everything the upstream sends afterwards; the FIN is passed on, not turned into a full close.

The upstream is a raw socket server here: after the 101 it echoes frames until it sees EOF,
then sends one last frame and closes - only possible if the proxy kept the other direction open."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading

import manifests as m

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ACCEPT = base64.b64encode(hashlib.sha1((KEY + GUID).encode()).digest()).decode()
FAREWELL = b"\x81\x03bye"


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
            request = b""
            while b"\r\n\r\n" not in request:
                request += sock.recv(4096)
            sock.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n".encode())
            while True:
                data = sock.recv(4096)
                if not data:
                    break
                self.received += data
            sock.sendall(FAREWELL)

    def close(self):
        self.listener.close()


def test_client_fin_is_passed_on_and_the_upstream_can_still_answer(stack):
    upstream = HalfCloseUpstream()
    try:
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(*m.service_with_backends("raw", [upstream.port]),
                                                  m.ingress("app", [("/ws/", "raw")])))
        stack.start()
        with socket.create_connection(("127.0.0.1", stack.http_port), timeout=5) as client:
            client.sendall(f"GET /ws/raw HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                           f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += client.recv(4096)
            assert answer.startswith(b"HTTP/1.1 101")
            masked_hi = b"\x81\x82\x00\x00\x00\x00hi"  # "hi", masked with a zero key
            client.sendall(masked_hi)
            client.shutdown(socket.SHUT_WR)
            rest = answer.split(b"\r\n\r\n", 1)[1]
            while True:
                data = client.recv(4096)
                if not data:
                    break
                rest += data
        assert rest == FAREWELL
        assert upstream.received == masked_hi
    finally:
        upstream.close()
