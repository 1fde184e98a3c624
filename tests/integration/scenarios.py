"""Manifests and probes shared by the tests that change config or restart processes."""

import manifests as m
from harness import PierStack


def app_ingress(switch_to: str) -> str:
    """The `app` Ingress: /ws/ always on svc-a, /switch on the given Service."""
    return m.render(m.ingress("app", [("/ws/", "svc-a"), ("/switch", switch_to)],
                              annotations={"pier.dev/websocket-idle-timeout": "3600s"}))


def backend_of(stack: PierStack, path: str = "/switch"):
    """Which backend answered (every chat-backend response names itself in X-Backend)."""
    return stack.get(path, timeout=2).header("x-backend")
