"""Config changes apply within a second and never drop a live WebSocket."""

import time

from websockets.sync.client import connect

import manifests as m
from harness import wait_until
from scenarios import app_ingress, backend_of

RELOAD_BUDGET_S = 1.5  # DESIGN: a manifest change is applied within 1 s


def switch_and_time(stack, service: str, backend: str) -> float:
    started = time.monotonic()
    stack.write_manifest("app.yaml", app_ingress(service))
    wait_until(lambda: backend_of(stack) == backend, 10, f"/switch to reach {backend}", interval=0.02,
               alive=stack.check_alive)
    return time.monotonic() - started


def test_routing_change_applies_fast_and_keeps_the_websocket(two_services):
    stack = two_services
    assert backend_of(stack) == "chat-a"
    with connect(stack.url("/ws/echo", scheme="ws"), open_timeout=5) as ws:
        ws.send("before")
        assert ws.recv(timeout=5) == "before"

        elapsed = switch_and_time(stack, "svc-b", "chat-b")
        assert elapsed < RELOAD_BUDGET_S, f"routing change took {elapsed:.2f}s"
        ws.send("after one change")
        assert ws.recv(timeout=5) == "after one change"

        elapsed = switch_and_time(stack, "svc-a", "chat-a")
        assert elapsed < RELOAD_BUDGET_S, f"routing change back took {elapsed:.2f}s"
        ws.send(b"\x00after two changes")
        assert ws.recv(timeout=5) == b"\x00after two changes"


def test_removing_a_route_gives_404_and_keeps_other_tunnels(two_services):
    stack = two_services
    with connect(stack.url("/ws/echo", scheme="ws"), open_timeout=5) as ws:
        stack.write_manifest("app.yaml", m.render(m.ingress("app", [("/ws/", "svc-a")])))
        wait_until(lambda: stack.get("/switch", timeout=2).status == 404, 5, "/switch to be gone",
                   alive=stack.check_alive)
        ws.send("still here")
        assert ws.recv(timeout=5) == "still here"
