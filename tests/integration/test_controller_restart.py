"""The dataplane does not need the controller to serve: it keeps the last snapshot while the
controller is gone, and resyncs when it comes back."""

import signal
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


# The dataplane's keepalive (a ping 30 s into the connection and every 30 s after, 10 s to
# answer) notices a controller that stopped answering without closing TCP, as when its node
# dies: within 40 s. A stopped process is the loopback stand-in: the
# kernel keeps its sockets open, but nothing answers HTTP/2 pings.
KEEPALIVE_DETECTION_S = 40
SILENT_CONTROLLER_TIMEOUT_S = KEEPALIVE_DETECTION_S + 15


def test_a_silent_controller_is_noticed_by_keepalive_and_serving_goes_on(two_services):
    stack = two_services
    stack.controller.popen.send_signal(signal.SIGSTOP)
    try:
        wait_until(lambda: "keepalive watchdog timeout" in stack.dataplane.log_text(), SILENT_CONTROLLER_TIMEOUT_S,
                   "the dataplane to give up on the silent controller", interval=0.5, alive=stack.dataplane.check_alive)
        assert backend_of(stack) == "chat-a"
    finally:
        stack.controller.popen.send_signal(signal.SIGCONT)
    # Once it answers again the dataplane is connected and takes changes as before.
    stack.write_manifest("app.yaml", app_ingress("svc-b"))
    wait_until(lambda: backend_of(stack) == "chat-b", RESYNC_TIMEOUT_S, "the dataplane to resync",
               interval=0.1, alive=stack.check_alive)
