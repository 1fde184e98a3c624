"""WebSocket smuggling: only a 101 with the right Sec-WebSocket-Accept opens a tunnel. A backend
that answers an upgrade with 426 or 200 (or a bogus 101) never gets a raw pipe: whatever the
client sends next is parsed by the proxy as HTTP - forwarded with the proxy's headers when it is
a valid request, refused when it is not - and never copied through verbatim."""

from __future__ import annotations

import pytest

import manifests as m
from harness import PierStack
from rawhttp import Connection, format_request
from recorder import Recorder, RecordedRequest, ok_json

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": KEY,
           "Sec-WebSocket-Version": "13"}


def backend(request: RecordedRequest) -> bytes:
    if request.header("upgrade") is None:
        return ok_json(request)
    if request.target == "/ws/426":
        body = b"upgrade refused\n"
        return (b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    if request.target == "/ws/bad-accept":
        return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBhbnN3ZXI=\r\n\r\n")
    return ok_json(request)  # /ws/200: a plain 200 to an upgrade request


@pytest.fixture(scope="module")
def smuggling(module_launcher, tmp_path_factory):
    recorder = Recorder(backend)
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("smuggling"))
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.catch_all("recorder", [recorder.port]))
    stack.start()
    yield stack, recorder
    recorder.close()


@pytest.mark.parametrize("status", [426, 200])
def test_refused_upgrade_keeps_the_connection_http(smuggling, status):
    stack, recorder = smuggling
    with Connection(stack.http_port) as connection:
        connection.send(format_request("GET", f"/ws/{status}", UPGRADE)
                        + format_request("GET", f"/second-{status}", {"X-Probe": "raw"}))
        first = connection.read_response()
        assert first.status == status
        assert first.header("upgrade") is None
        second = connection.read_response()
        assert second.status == 200
        assert second.json()["target"] == f"/second-{status}"

    seen = [r for r in recorder.requests() if r.target == f"/second-{status}"]
    assert len(seen) == 1
    # Forwarded by the proxy's HTTP path (which adds these), not copied through a tunnel.
    assert seen[0].header("x-forwarded-for") == "127.0.0.1"
    assert seen[0].header("x-request-id")


@pytest.mark.parametrize("status", [426, 200])
def test_smuggled_request_after_a_refused_upgrade_is_judged_by_the_proxy(smuggling, status):
    """The follow-up is a request smuggling attempt (Content-Length and chunked together): with
    a raw tunnel it would reach the backend as is; through the proxy it is refused with 400."""
    stack, recorder = smuggling
    smuggled = (f"POST /smuggled-{status} HTTP/1.1\r\nHost: app.test\r\nContent-Length: 6\r\n"
                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nX").encode()
    with Connection(stack.http_port) as connection:
        connection.send(format_request("GET", f"/ws/{status}", UPGRADE) + smuggled)
        assert connection.read_response().status == status
        assert connection.read_response().status == 400
    assert not [r for r in recorder.requests() if r.target.startswith(f"/smuggled-{status}")]
    assert not any(b"/smuggled-" in c.raw for c in recorder.connections)


def test_101_with_a_wrong_accept_is_502_and_no_tunnel(smuggling):
    stack, recorder = smuggling
    with Connection(stack.http_port) as connection:
        connection.send(format_request("GET", "/ws/bad-accept", UPGRADE)
                        + format_request("GET", "/after-bad-accept"))
        assert connection.read_response().status == 502
        follow_up = connection.read_response()
        assert follow_up.status == 200
    seen = [r for r in recorder.requests() if r.target == "/after-bad-accept"]
    assert len(seen) == 1 and seen[0].header("x-forwarded-for") == "127.0.0.1"
