"""proxy-cookie-domain/-path: the Domain and Path attributes of the backend's Set-Cookie headers
rewritten as nginx's proxy_cookie_domain and proxy_cookie_path rewrite them. Real nginx,
configured with the directives ingress-nginx writes for these annotations, sends the same
headers, byte for byte, in the same order."""

from __future__ import annotations

import base64
import hashlib

import pytest

import manifests as m
from nginxutil import NGINX, start_nginx
from rawhttp import request
from recorder import Recorder

DOMAIN = (".app.internal", "shop.example")
PATH = ("/api/", "/")
NGINX_SERVER = """\
location / {{
    proxy_pass http://127.0.0.1:{port};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $http_connection;
    proxy_cookie_domain {domain[0]} {domain[1]};
    proxy_cookie_path {path[0]} {path[1]};
}}
"""

# The backend's Set-Cookie headers, all in one response.
SET_COOKIES = [
    "session=abc; Domain=app.internal; Path=/api/cart; HttpOnly",
    "pref=1; domain=.APP.internal; path=/api/",
    "other=2; Domain=sub.app.internal; Path=/apix",
    "  spaced = v ;Secure;; path = /api/v1 ;",
    "plain=3",
    "Path=/api/name-not-attribute",
    "flag=4; Path; Domain",
    "garbage; Path=/api/x",
]


WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": WS_KEY}


def backend_answers(request) -> bytes:
    cookies = "".join(f"Set-Cookie: {value}\r\n" for value in SET_COOKIES)
    key = request.header("Sec-WebSocket-Key")
    if key:  # a backend that sets its session cookie with the 101
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        return (f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept.decode()}\r\n{cookies}\r\n").encode()
    return f"HTTP/1.1 200 OK\r\n{cookies}Content-Length: 2\r\n\r\nok".encode()


def cookies_through(port: int, host: str = "shop.test", upgrade: bool = False) -> list[str]:
    response = request(port, "GET", "/ws" if upgrade else "/", headers={"Host": host, **(UPGRADE if upgrade else {})})
    assert response.status == (101 if upgrade else 200), response.status
    return [value for name, value in response.headers if name.lower() == "set-cookie"]


@pytest.fixture
def backend(stack):
    recorder = Recorder(backend_answers)
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("app", [recorder.port]),
        m.ingress("shop", [("/", "app")], {"nginx.ingress.kubernetes.io/proxy-cookie-domain": " ".join(DOMAIN),
                                           "nginx.ingress.kubernetes.io/proxy-cookie-path": " ".join(PATH)},
                  host="shop.test"),
        m.ingress("plain", [("/", "app")], {"pier.dev/proxy-cookie-domain": "off"}, host="plain.test"),
        m.ingress("regex", [("/", "app")], {"pier.dev/proxy-cookie-path": "~^/api /"}, host="regex.test")))
    stack.start()
    yield stack, recorder
    recorder.close()


def test_set_cookie_domain_and_path_are_rewritten(backend):
    stack, _ = backend
    assert cookies_through(stack.http_port) == [
        "session=abc; Domain=shop.example; Path=/cart; HttpOnly",
        "pref=1; domain=.shop.example; path=/",
        SET_COOKIES[2],  # another domain, and a path that only shares characters
        "spaced=v; Secure; ; path=/v1;",  # empty parts kept, as nginx does; the reader drops the last space
        "plain=3",
        SET_COOKIES[5],
        SET_COOKIES[6],
        SET_COOKIES[7],  # not a cookie: no "=" in its first part
    ]
    # The 101 of an upgrade too, as nginx does.
    assert cookies_through(stack.http_port, upgrade=True) == cookies_through(stack.http_port)
    # "off" and an invalid value (a regex) leave every header as the backend wrote it.
    as_sent = [value.strip() for value in SET_COOKIES]  # header values lose their outer spaces
    assert cookies_through(stack.http_port, "plain.test") == as_sent
    assert cookies_through(stack.http_port, "regex.test") == as_sent
    assert "proxy-cookie-path" in stack.controller.log_text()


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_headers_as_nginx_proxy_cookie(backend, tmp_path):
    stack, recorder = backend
    pier_seen = cookies_through(stack.http_port), cookies_through(stack.http_port, upgrade=True)
    nginx, port = start_nginx(stack.launcher, tmp_path,
                              NGINX_SERVER.format(port=recorder.port, domain=DOMAIN, path=PATH), probe_host="shop.test")
    assert (cookies_through(port), cookies_through(port, upgrade=True)) == pier_seen
    nginx.stop()
