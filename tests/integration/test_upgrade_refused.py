"""A backend that answers an upgrade with 400 or 426 is relayed as a plain HTTP response, and the
client connection stays HTTP: a pipelined request after it is proxied like any other (the proxy
adds X-Forwarded-For, which a raw tunnel to the backend would not)."""

import pytest

from rawhttp import Connection, format_request

UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket",
           "Sec-WebSocket-Key": "SGVsbG8sIHdvcmxkIQ==", "Sec-WebSocket-Version": "13"}


@pytest.mark.parametrize("status", [400, 426])
def test_refused_upgrade_is_not_tunnelled(proxy, status):
    with Connection(proxy.http_port) as connection:
        connection.send(format_request("GET", f"/ws/reject-{status}", UPGRADE)
                        + format_request("GET", "/headers"))
        refused = connection.read_response()
        assert refused.status == status
        assert refused.header("x-backend") in {"chat-1", "chat-2", "chat-3"}
        assert f"refused with {status}".encode() in refused.body

        follow_up = connection.read_response()
        assert follow_up.status == 200
        seen = follow_up.json()
        assert seen["target"] == "/headers"
        assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert "upgrade" not in seen["headers"]
