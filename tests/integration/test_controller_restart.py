"""The dataplane does not need the controller to serve: it keeps the last snapshot while the
controller is gone, and resyncs when it comes back."""

import time

from websockets.sync.client import connect

from harness import wait_until
from scenarios import app_ingress, backend_of

RESYNC_TIMEOUT_S = 20  # dataplane reconnect backoff plus the controller's first sync


def test_dataplane_survives_controller_and_resyncs(two_services):
    stack = two_services
    with connect(stack.url("/ws/echo", scheme="ws"), open_timeout=5) as ws:
        stack.controller.kill()

        # Still serving: plain requests, the admin readiness, and the open tunnel.
        assert backend_of(stack) == "chat-a"
        assert stack.get("/ws/reject-400").status == 400
        ws.send("controller is gone")
        assert ws.recv(timeout=5) == "controller is gone"

        # A change made while nobody watches the manifests cannot apply yet...
        stack.write_manifest("app.yaml", app_ingress("svc-b"))
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            assert backend_of(stack) == "chat-a"
            stack.dataplane.check_alive()
            time.sleep(0.1)

        # ...and does once the controller is back (same gRPC address, fresh process).
        stack.start_controller()
        wait_until(lambda: backend_of(stack) == "chat-b", RESYNC_TIMEOUT_S, "the dataplane to resync",
                   interval=0.1, alive=stack.check_alive)
        ws.send("controller is back")
        assert ws.recv(timeout=5) == "controller is back"
    stack.wait_ready(timeout=5)
