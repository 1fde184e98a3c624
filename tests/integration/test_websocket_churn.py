"""Zero-drop configuration changes: 200 WebSockets keep echoing, without a single close or lost
message, while the dataplane applies 1,000 snapshots that add and remove routes for other hosts
and, every other time, drop the tunnels' own backend endpoint from the snapshot.

The snapshots come from pier-churn-controller (tests/tools), which sends each one as soon as the
previous one is acknowledged, so all 1,000 are really applied (the real controller debounces on
purpose). A second test drives the real controller by rewriting a manifest file and reports how
many versions that produced."""

from __future__ import annotations

import asyncio
import re
import signal
import time

from websockets.asyncio.client import connect

import manifests as m
from harness import PierStack, binary, free_port, wait_until
from rawhttp import request

SNAPSHOTS = 1000
# Pacing between snapshots: ~4 s of churn however fast they apply, so every tunnel echoes all
# the way through it.
SNAPSHOT_INTERVAL_MS = 4
TUNNELS = 200
CHURN_TIMEOUT_S = 120


def messages_total(stack: PierStack, direction: str) -> int:
    """pier_websocket_messages_total summed over routes for one direction."""
    text = request(stack.admin_port, "GET", "/metrics").text
    pattern = rf'^pier_websocket_messages_total\{{[^}}]*direction="{direction}"[^}}]*\}} (\S+)$'
    return int(sum(float(v) for v in re.findall(pattern, text, re.MULTILINE)))


def config_version(stack: PierStack) -> int:
    text = request(stack.admin_port, "GET", "/metrics").text
    match = re.search(r"^pier_config_version(?:\{[^}]*\})? (\S+)$", text, re.MULTILINE)
    return int(float(match.group(1))) if match else 0


async def echo_until(sockets, done, counts):
    """Each socket sends numbered messages and checks each echo, until `done` says stop."""

    async def one(index, ws):
        n = 0
        while not done():
            text = f"{index}:{n}"
            await ws.send(text)
            reply = await asyncio.wait_for(ws.recv(), 10)
            assert reply == text, (reply, text)
            n += 1
            counts[index] = n
            await asyncio.sleep(0.05)

    await asyncio.gather(*(one(i, ws) for i, ws in enumerate(sockets)))


async def open_tunnels(url: str, count: int):
    sockets = []
    for _ in range(count):
        sockets.append(await connect(url, ping_interval=None, open_timeout=10, close_timeout=2))
    return sockets


def test_thousand_snapshots_drop_nothing(launcher, tmp_path):
    stack = PierStack(launcher, tmp_path)
    backend = stack.start_backend("chat-churn")
    controller_port = free_port()
    churn = launcher.start("churn-controller", [
        binary("pier-churn-controller"), "--port", str(controller_port), "--backend", backend.address,
        "--snapshots", str(SNAPSHOTS), "--interval-ms", str(SNAPSHOT_INTERVAL_MS)])
    stack.grpc_port = controller_port
    stack.start_dataplane()
    stack.wait_ready()

    async def scenario():
        sockets = await open_tunnels(stack.url("/ws/echo", scheme="ws"), TUNNELS)
        counts = [0] * TUNNELS
        churn_done = asyncio.Event()
        before = config_version(stack)
        churn.popen.send_signal(signal.SIGUSR1)
        started = time.monotonic()

        async def watch():
            while "churn done" not in churn.log_text():
                churn.check_alive()
                if time.monotonic() - started > CHURN_TIMEOUT_S:
                    raise TimeoutError("churn did not finish")
                await asyncio.sleep(0.2)
            churn_done.set()

        await asyncio.gather(watch(), echo_until(sockets, churn_done.is_set, counts))
        # One more round-trip on every tunnel after the last snapshot.
        for i, ws in enumerate(sockets):
            await ws.send(f"after {i}")
        for i, ws in enumerate(sockets):
            assert await asyncio.wait_for(ws.recv(), 10) == f"after {i}"
        closed = [ws for ws in sockets if ws.close_code is not None]
        for ws in sockets:
            await ws.close()
        return before, counts, closed

    before, counts, closed = asyncio.run(scenario())
    assert not closed, f"{len(closed)} tunnels closed during the churn"
    assert min(counts) >= 10, f"a tunnel echoed only {min(counts)} times during the churn"
    result = re.search(r"churn done: snapshots=(\d+) accepted=(\d+) rejected=(\d+) seconds=(\S+)", churn.log_text())
    assert result, churn.log_tail()
    assert int(result.group(3)) == 0, churn.log_tail()
    assert config_version(stack) == before + SNAPSHOTS
    # Every echo is one message each way; the "after" round adds one per tunnel.
    assert messages_total(stack, "in") == sum(counts) + TUNNELS
    assert messages_total(stack, "out") == sum(counts) + TUNNELS
    print(f"\n{SNAPSHOTS} snapshots applied in {float(result.group(4)):.1f}s; "
          f"{sum(counts)} messages echoed on {TUNNELS} tunnels, none lost")


def test_manifest_rewrites_through_the_real_controller_drop_nothing(stack):
    backend = stack.start_backend("chat-churn")
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(*m.service_with_backends("chat", [backend.port]),
                                              m.ingress("app", [("/ws/", "chat")])))
    stack.write_manifest("other.yaml", m.render(m.ingress("other", [("/", "chat")], host="other-0.example")))
    stack.start()
    rewrites = 30

    async def scenario():
        sockets = await open_tunnels(stack.url("/ws/echo", scheme="ws"), 50)
        counts = [0] * len(sockets)
        done = asyncio.Event()
        before = config_version(stack)

        async def rewrite():
            for i in range(1, rewrites + 1):
                hosts = [f"other-{(i + j) % 7}.example" for j in range(i % 3 + 1)]
                stack.write_manifest("other.yaml", m.render(
                    *[m.ingress(f"other-{n}", [("/", "chat")], host=h) for n, h in enumerate(hosts)]))
                await asyncio.sleep(0.25)  # longer than the controller's debounce
            await asyncio.sleep(1.0)
            done.set()

        await asyncio.gather(rewrite(), echo_until(sockets, done.is_set, counts))
        closed = [ws for ws in sockets if ws.close_code is not None]
        for ws in sockets:
            await ws.close()
        return before, counts, closed

    before, counts, closed = asyncio.run(scenario())
    applied = config_version(stack) - before
    assert not closed
    assert min(counts) > 0
    # Honest count: rewrites the controller coalesced are not versions.
    assert applied >= rewrites // 2, f"only {applied} versions from {rewrites} rewrites"
    print(f"\n{rewrites} manifest rewrites -> {applied} applied versions; {sum(counts)} messages, none lost")
