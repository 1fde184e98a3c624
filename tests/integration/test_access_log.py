"""enable-access-log: false silences the dataplane's access log for an Ingress' requests and
WebSockets, and only for that Ingress; its metrics still count them. --access-log=false silences
it for every Ingress."""

from __future__ import annotations

from websockets.sync.client import connect

import manifests as m
from harness import wait_until
from promtext import samples
from rawhttp import request
from wsutil import EchoServer


def test_enable_access_log_false_drops_the_lines_of_that_ingress_only(stack):
    echo = EchoServer(http_reply="hello")
    try:
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(
            *m.service_with_backends("echo", [echo.port]),
            m.ingress("quiet", [("/quiet", "echo")], {"nginx.ingress.kubernetes.io/enable-access-log": "false"}),
            m.ingress("loud", [("/loud", "echo")], {"pier.dev/enable-access-log": "true"})))
        stack.start()

        for prefix in ("/quiet", "/loud"):
            assert stack.get(f"{prefix}/page").status == 200
            with connect(stack.url(f"{prefix}/ws", scheme="ws"), open_timeout=5) as ws:
                ws.send("ping")
                assert ws.recv(timeout=5) == "ping"

        def loud_lines():
            return [line for line in stack.dataplane.log_text().splitlines() if '"path":"/loud/' in line]

        # Both lines of the logged Ingress (the request, then the tunnel when it closed) show the
        # log is being written; the silenced Ingress' were written before them, or never.
        wait_until(lambda: len(loud_lines()) == 2, 10, "the access log lines of /loud")
        assert any('"status":101' in line for line in loud_lines())
        assert "/quiet/" not in stack.dataplane.log_text()

        text = request(stack.admin_port, "GET", "/metrics").text
        quiet = [(labels, value) for labels, value in samples(text, "pier_http_requests_total")
                 if labels.get("ingress") == "quiet"]
        assert sum(value for _, value in quiet) == 2, quiet  # the GET and the upgrade
        upgrades = [value for labels, value in samples(text, "pier_websocket_upgrades_total")
                    if labels.get("ingress") == "quiet"]
        assert sum(upgrades) == 1, upgrades
    finally:
        echo.close()


def test_the_access_log_flag_turns_every_line_off(stack):
    echo = EchoServer(http_reply="hello")
    try:
        stack.dataplane_args = ["--access-log=false"]
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(
            *m.service_with_backends("echo", [echo.port]), m.ingress("loud", [("/loud", "echo")])))
        stack.start()
        assert stack.get("/loud/page").status == 200
        with connect(stack.url("/loud/ws", scheme="ws"), open_timeout=5) as ws:
            ws.send("ping")
            assert ws.recv(timeout=5) == "ping"
        assert stack.get("/nowhere").status == 404  # no route: logged too when the log is on

        def upgrades():
            text = request(stack.admin_port, "GET", "/metrics").text
            return sum(value for labels, value in samples(text, "pier_websocket_upgrades_total")
                       if labels.get("ingress") == "loud")

        wait_until(lambda: upgrades() == 1, 5, "the upgrade counted")
        stack.dataplane.stop()  # the tunnel's line, if any, is written by the time it exits
        log = stack.dataplane.log_text()
        assert "listening" in log  # the dataplane's own log lines are there
        assert '"path":"/loud/' not in log and '"path":"/nowhere"' not in log
    finally:
        echo.close()
