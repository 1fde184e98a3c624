"""What the backend sees: the client address in X-Forwarded-For and X-Real-IP, the original Host,
and for an upgrade request the WebSocket headers as the client sent them."""

from rawhttp import Connection, format_request


def test_forwarded_headers_name_the_client(proxy):
    seen = proxy.get("/headers", headers={"Host": "chat.example.test:8080"}).json()
    headers = seen["headers"]
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-real-ip"] == "127.0.0.1"
    assert headers["host"] == "chat.example.test:8080"
    assert headers["x-forwarded-proto"] == "http"


def test_untrusted_forwarded_for_is_appended_not_believed(proxy):
    seen = proxy.get("/headers", headers={"X-Forwarded-For": "203.0.113.7"}).json()
    headers = seen["headers"]
    assert headers["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    # The peer is not a trusted proxy, so the real client is the peer, not what it claims.
    assert headers["x-real-ip"] == "127.0.0.1"


def test_upgrade_request_reaches_the_backend_intact(proxy):
    # /headers does not upgrade: the backend answers 200 with what it received, and the proxy
    # relays that as a normal response.
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    with Connection(proxy.http_port) as connection:
        connection.send(format_request("GET", "/headers", {
            "Connection": "keep-alive, Upgrade", "Upgrade": "websocket",
            "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Protocol": "chat.v1"}))
        response = connection.read_response()
    assert response.status == 200
    headers = response.json()["headers"]
    assert headers["upgrade"].lower() == "websocket"
    assert "upgrade" in headers["connection"].lower()
    assert headers["sec-websocket-key"] == key
    assert headers["sec-websocket-version"] == "13"
    assert headers["sec-websocket-protocol"] == "chat.v1"
    assert headers["x-forwarded-for"] == "127.0.0.1"
