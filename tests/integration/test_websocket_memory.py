"""What an idle tunnel costs: the dataplane's resident memory grows by a small, bounded amount
per open-but-silent WebSocket, because no buffer is held while a tunnel waits (a design holding
two 16 KiB buffers per tunnel would cost more than 32 KiB each). The measured figure is printed
(run pytest with -s to see it)."""

from __future__ import annotations

import socket
import time

import pytest

import manifests as m

TUNNELS = 2000
BATCH = 200
WARMUP = 200
LIMIT_PER_TUNNEL = 12 * 1024
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def open_tunnels(port: int, count: int) -> list[socket.socket]:
    """Raw handshakes, a batch at a time: thousands of sockets without a thread each."""
    handshake = (f"GET /ws/echo HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                 f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    opened = []
    while len(opened) < count:
        batch = []
        for _ in range(min(BATCH, count - len(opened))):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(handshake)
            batch.append(sock)
        for sock in batch:
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                assert chunk, "connection closed during the handshake"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 101"), answer[:100]
        opened += batch
    return opened


def sanitized(pid: int) -> bool:
    """ASan/TSan builds pad and quarantine every allocation: their RSS says nothing here."""
    with open(f"/proc/{pid}/maps") as maps:
        text = maps.read()
    return "libasan" in text or "libtsan" in text


def test_idle_tunnel_memory(stack):
    backend = stack.start_backend("chat-memory")
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(*m.service_with_backends("chat", [backend.port]),
                                              m.ingress("app", [("/ws/", "chat")])))
    stack.start()
    pid = stack.dataplane.pid
    if sanitized(pid):
        pytest.skip("memory per tunnel is only meaningful without sanitizers")
    warm = open_tunnels(stack.http_port, WARMUP)  # allocator arenas, metric children, pools
    time.sleep(0.5)
    before = rss_bytes(pid)
    tunnels = open_tunnels(stack.http_port, TUNNELS)
    time.sleep(1.0)
    after = rss_bytes(pid)
    per_tunnel = (after - before) / TUNNELS
    print(f"\nidle tunnel: {per_tunnel / 1024:.2f} KiB of dataplane RSS each "
          f"({TUNNELS} tunnels: {before / 2**20:.1f} -> {after / 2**20:.1f} MiB)")
    for sock in tunnels + warm:
        sock.close()
    assert per_tunnel < LIMIT_PER_TUNNEL
