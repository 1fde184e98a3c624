"""proxy-redirect-from/-to: the backend's Location and Refresh headers that begin with the "from"
text get the "to" text in its place; others are left alone. Real nginx, configured with the
proxy_redirect ingress-nginx writes for these annotations, rewrites the same headers the same way."""

from __future__ import annotations

import pytest

import manifests as m
from nginxutil import NGINX, start_nginx
from rawhttp import request
from recorder import Recorder

FROM = "http://app.internal:8080/"
TO = "https://shop.example/"
NGINX_SERVER = """\
location / {{
    proxy_pass http://127.0.0.1:{port};
    proxy_redirect {from_} {to};
}}
"""

# (request target, the backend's Location, its Refresh)
CASES = [
    ("/login", "http://app.internal:8080/login?next=%2Fcart", "5; url=http://app.internal:8080/home"),
    ("/away", "https://elsewhere.example/x", "0;URL=http://app.internal:8080/"),
    ("/rel", "/relative/path", "3"),
    ("/case", "HTTP://APP.INTERNAL:8080/upper", "1; url = http://app.internal:8080/spaced"),
]


# A response with two of each (which HTTP does not allow, but backends send): every one is kept,
# in order, each rewritten on its own.
TWICE = ("/twice", ["http://app.internal:8080/first", "/second"],
         ["1; url=/stay", "2; url=http://app.internal:8080/go"])


def backend_answers(request) -> bytes:
    if request.target == TWICE[0]:
        fields = "".join(f"Location: {value}\r\n" for value in TWICE[1])
        fields += "".join(f"Refresh: {value}\r\n" for value in TWICE[2])
        return f"HTTP/1.1 302 Found\r\n{fields}Content-Length: 0\r\n\r\n".encode()
    case = next(((loc, ref) for target, loc, ref in CASES if target == request.target), None)
    if case is None:  # nginx's readiness probe
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    location, refresh = case
    return (f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nRefresh: {refresh}\r\nContent-Length: 0\r\n\r\n"
            .encode())


def every(response, name: str) -> list[str]:
    return [value for key, value in response.headers if key.lower() == name.lower()]


def twice_through(port: int) -> tuple[list[str], list[str]]:
    response = request(port, "GET", TWICE[0], headers={"Host": "shop.test"})
    assert response.status == 302, response.status
    return every(response, "Location"), every(response, "Refresh")


def redirects_through(port: int) -> list[tuple[str, str]]:
    seen = []
    for target, _, _ in CASES:
        response = request(port, "GET", target, headers={"Host": "shop.test"})
        assert response.status == 302, response.status
        seen.append((response.header("Location"), response.header("Refresh")))
    return seen


@pytest.fixture
def backend(stack):
    recorder = Recorder(backend_answers)
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("app", [recorder.port]),
        m.ingress("shop", [("/", "app")], {"nginx.ingress.kubernetes.io/proxy-redirect-from": FROM,
                                           "nginx.ingress.kubernetes.io/proxy-redirect-to": TO}, host="shop.test"),
        m.ingress("plain", [("/", "app")], host="plain.test")))
    stack.start()
    yield stack, recorder
    recorder.close()


def test_locations_that_begin_with_from_are_rewritten(backend):
    stack, _ = backend
    assert redirects_through(stack.http_port) == [
        ("https://shop.example/login?next=%2Fcart", "5; url=https://shop.example/home"),
        ("https://elsewhere.example/x", "0;URL=https://shop.example/"),
        ("/relative/path", "3"),
        ("HTTP://APP.INTERNAL:8080/upper", "1; url = http://app.internal:8080/spaced"),  # nginx: "url=" only
    ]
    assert twice_through(stack.http_port) == (["https://shop.example/first", "/second"],
                                              ["1; url=/stay", "2; url=https://shop.example/go"])
    # Without the annotations nothing is touched.
    response = request(stack.http_port, "GET", "/login", headers={"Host": "plain.test"})
    assert response.header("Location") == CASES[0][1]


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_headers_as_nginx_proxy_redirect(backend, tmp_path):
    stack, recorder = backend
    pier_seen = redirects_through(stack.http_port)
    nginx, port = start_nginx(stack.launcher, tmp_path, NGINX_SERVER.format(port=recorder.port, from_=FROM, to=TO),
                              probe_host="shop.test")
    assert redirects_through(port) == pier_seen
    assert twice_through(port) == twice_through(stack.http_port)
    nginx.stop()
