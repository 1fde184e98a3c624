"""auth-url: before a request is proxied, Pier asks an auth service (a recording HTTP server in
the test process, scripted by the request's cookie) with the client's headers and no body. A
2xx answer lets the request through with the auth-response-headers copied onto it (a client's
own values of them never reach the backend), 401 and 403 go to the client, an auth service
that fails, is down or is too slow gives 500; auth-signin turns the 401 into a redirect; a
WebSocket upgrade is checked too; `$host` as the auth host of a rule without a host fails
closed; and for the same requests real nginx with auth_request gives the same statuses."""

from __future__ import annotations

import socket
import time
from urllib.parse import quote

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import manifests as m
from harness import PierStack, free_port, wait_until
from nginxutil import NGINX, auth_location, start_nginx
from promtext import metric
from rawhttp import request
from recorder import answer, Recorder, RecordedRequest, ok_json

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"


def auth_service(request: RecordedRequest) -> bytes:
    """The session cookie decides, as with oauth2-proxy."""
    cookie = request.header("Cookie") or ""
    if request.method == "HEAD":  # the length of the body a GET would have, and no body
        return b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    if "session=alice" in cookie:
        return answer(202, "Accepted", {"X-Auth-Request-User": "alice", "X-Auth-Request-Email": "alice@example.test",
                                        "X-Not-Copied": "1", "Set-Cookie": "session=alice; Max-Age=60"}, b"ok")
    if "session=bob" in cookie:  # no email: a client's own X-Auth-Request-Email must not pass
        return answer(200, "OK", {"X-Auth-Request-User": "bob"})
    if "session=mallory" in cookie:
        return answer(403, "Forbidden")
    if "session=broken" in cookie:
        return answer(502, "Bad Gateway")
    if "session=slow" in cookie:
        time.sleep(3)
        return answer(200, "OK")
    return answer(401, "Unauthorized", {"WWW-Authenticate": 'Bearer realm="example"',
                                        "Set-Cookie": "session=; Max-Age=0"})


def guarded(name: str, host: str, auth_url: str, paths, **extra: str) -> dict:
    return m.ingress(name, paths, {NGINX_PREFIX + "auth-url": auth_url, **extra}, host=host)


@pytest.fixture(scope="module")
def external(module_launcher, tmp_path_factory):
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("external-auth"))
    chat = stack.start_backend("chat-1")
    backend = Recorder(ok_json)
    auth = Recorder(auth_service)
    check = f"http://127.0.0.1:{auth.port}/check?uri=$escaped_request_uri"
    copied = {NGINX_PREFIX + "auth-response-headers": "X-Auth-Request-User, X-Auth-Request-Email"}
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("apps.yaml", m.render(
        *m.service_with_backends("backend", [backend.port]),
        *m.service_with_backends("chat", [chat.port]),
        guarded("guarded", "guarded.test", check, [("/", "backend"), ("/ws", "chat")], **copied),
        # A DNS name: resolved when the check connects.
        guarded("named", "named.test", f"http://localhost:{auth.port}/check", [("/", "backend")]),
        guarded("signin", "signin.test", check, [("/", "backend")],
                **{NGINX_PREFIX + "auth-signin": "https://$host/oauth2/start"}),
        guarded("head", "head.test", check, [("/", "backend")], **{NGINX_PREFIX + "auth-method": "HEAD"}),
        guarded("always", "always.test", check, [("/", "backend")],
                **{NGINX_PREFIX + "auth-always-set-cookie": "true"}),
        guarded("down", "down.test", f"http://127.0.0.1:{free_port()}/check", [("/", "backend")]),
        guarded("slow", "slow.test", check, [("/", "backend")], **{NGINX_PREFIX + "proxy-read-timeout": "1"}),
        # $host as the auth host needs the rule's own host: a rule for every host cannot have it.
        guarded("anyhost", "", "http://$host/check", [("/anyhost", "backend")]),
        m.ingress("public", [("/", "backend")], host="public.test")))
    stack.start()
    yield stack, backend, auth
    backend.close()
    auth.close()


def get(stack, host: str, cookie: str | None = None, path: str = "/x", **headers: str):
    if cookie is not None:
        headers["Cookie"] = cookie
    return request(stack.http_port, "GET", path, headers={"Host": host, **headers})


def test_without_a_session_the_services_401_reaches_the_client_and_nothing_the_backend(external):
    stack, backend, auth = external
    before, asked = len(backend.requests()), len(auth.requests())
    response = get(stack, "guarded.test", path="/x?a=1&b=two", **{"X-Custom": "kept"})
    assert response.status == 401, response.text
    assert response.header("WWW-Authenticate") == 'Bearer realm="example"'
    assert len(backend.requests()) == before
    assert len(auth.requests()) == asked + 1
    check = auth.requests()[-1]
    assert check.method == "GET"
    assert check.target == "/check?uri=" + quote("/x?a=1&b=two", safe="")
    assert check.header("Host") == f"127.0.0.1:{auth.port}"
    assert check.header("X-Original-URL") == "http://guarded.test/x?a=1&b=two"
    assert check.header("X-Original-Method") == "GET"
    assert check.header("X-Sent-From") == "pier"
    assert check.header("X-Real-IP") == "127.0.0.1"
    assert check.header("X-Forwarded-For") == "127.0.0.1"
    assert check.header("X-Auth-Request-Redirect") == "/x?a=1&b=two"
    assert check.header("X-Custom") == "kept"
    assert check.header("X-Request-ID")
    assert check.body == b"" and check.header("Content-Length") is None


def test_a_2xx_lets_the_request_through_with_the_services_headers_only(external):
    stack, backend, _ = external
    response = get(stack, "guarded.test", "session=alice",
                   **{"X-Auth-Request-User": "mallory", "X-Auth-Request-Email": "mallory@evil.test"})
    assert response.status == 200, response.text
    seen = response.json()["headers"]
    assert seen["x-auth-request-user"] == "alice"
    assert seen["x-auth-request-email"] == "alice@example.test"
    assert "x-not-copied" not in seen
    # The service named no email for bob: the client's own does not pass either.
    response = get(stack, "guarded.test", "session=bob", **{"X-Auth-Request-Email": "mallory@evil.test"})
    assert response.status == 200
    seen = response.json()["headers"]
    assert seen["x-auth-request-user"] == "bob"
    assert "x-auth-request-email" not in seen
    # Another Ingress of Pier is not guarded.
    assert get(stack, "public.test").status == 200


def cookies(response) -> list[str]:
    return [value for name, value in response.headers if name.lower() == "set-cookie"]


def test_the_services_cookies_reach_the_client_as_with_nginx_add_header(external):
    stack, _, _ = external
    # A 2xx check and a 200 from the backend: the service's (refreshed) session cookie goes along.
    assert cookies(get(stack, "guarded.test", "session=alice")) == ["session=alice; Max-Age=60"]
    # Pier's own 401 carries only the service's challenge, unless auth-always-set-cookie.
    assert cookies(get(stack, "guarded.test")) == []
    assert cookies(get(stack, "always.test")) == ["session=; Max-Age=0"]
    assert cookies(get(stack, "always.test", "session=alice")) == ["session=alice; Max-Age=60"]


def test_a_request_body_goes_to_the_backend_not_to_the_auth_service(external):
    stack, backend, auth = external
    response = request(stack.http_port, "POST", "/form", headers={"Host": "guarded.test", "Cookie": "session=alice"},
                       body=b"name=value")
    assert response.status == 200, response.text
    assert response.json()["body"] == "name=value"
    check = auth.requests()[-1]
    assert check.header("X-Original-Method") == "POST" and check.method == "GET"
    assert check.body == b""


def test_403_and_failures_of_the_service(external):
    stack, backend, _ = external
    before = len(backend.requests())
    assert get(stack, "guarded.test", "session=mallory").status == 403
    broken = get(stack, "guarded.test", "session=broken")
    assert broken.status == 500, broken.text
    down = get(stack, "down.test", "session=alice")
    assert down.status == 500, down.text
    started = time.monotonic()
    slow = get(stack, "slow.test", "session=slow")
    assert slow.status == 500, slow.text
    assert time.monotonic() - started < 2.5, "the route's read timeout (1 s) bounds the check"
    assert len(backend.requests()) == before
    wait_until(lambda: "auth-url:" in stack.dataplane.log_text(), 10, "the dataplane's line about the failing service")


def test_auth_method_head_reads_no_body(external):
    stack, _, auth = external
    started = time.monotonic()
    assert get(stack, "head.test").status == 200
    assert time.monotonic() - started < 2, "the check waited for a body"
    assert auth.requests()[-1].method == "HEAD"


def test_a_dns_name_is_resolved(external):
    stack, _, _ = external
    assert get(stack, "named.test", "session=alice").status == 200
    assert get(stack, "named.test").status == 401


def test_auth_signin_redirects_a_401_to_sign_in(external):
    stack, _, _ = external
    response = get(stack, "signin.test", path="/page?a=1")
    assert response.status == 302
    assert response.header("Location") == "https://signin.test/oauth2/start?rd=" + quote(
        "http://signin.test/page?a=1", safe="")
    assert get(stack, "signin.test", "session=alice").status == 200
    assert get(stack, "signin.test", "session=mallory").status == 403


def test_a_websocket_upgrade_is_checked_too(external):
    stack, _, _ = external
    url = "ws://guarded.test/ws"

    def loopback():
        return socket.create_connection(("127.0.0.1", stack.http_port), timeout=5)

    with pytest.raises(InvalidStatus) as refused, loopback() as sock:
        connect(url, sock=sock, open_timeout=5)
    assert refused.value.response.status_code == 401
    with connect(url, sock=loopback(), additional_headers={"Cookie": "session=alice"}, open_timeout=5,
                 close_timeout=2) as ws:
        ws.send("through the check")
        assert ws.recv(timeout=5) == "through the check"


def test_host_as_the_auth_host_of_a_rule_without_host_fails_closed(external):
    stack, backend, _ = external
    before = len(backend.requests())
    response = get(stack, "evil.test", "session=alice", path="/anyhost")
    assert response.status == 503
    assert "no exact host" in response.text
    assert len(backend.requests()) == before
    wait_until(lambda: "ingress default/anyhost" in stack.controller.log_text() and
               "auth-url uses $host" in stack.controller.log_text(), 10, "the controller's warning")


def test_metrics_count_each_answer(external):
    stack, _, _ = external
    count = lambda result: metric(stack.admin_port, "pier_external_auth_total", result=result)  # noqa: E731
    before = {result: count(result) for result in ("allowed", "unauthorized", "forbidden", "error")}
    get(stack, "guarded.test", "session=alice")
    get(stack, "guarded.test")
    get(stack, "guarded.test", "session=mallory")
    get(stack, "guarded.test", "session=broken")
    for result in before:
        assert count(result) == before[result] + 1, result


NGINX_SERVER = """\
location / {{
    auth_request /_auth;
    proxy_pass http://127.0.0.1:{backend};
}}
"""


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_statuses_as_nginx_with_auth_request(external, tmp_path):
    stack, backend, auth = external
    nginx, port = start_nginx(stack.launcher, tmp_path, NGINX_SERVER.format(backend=backend.port) + auth_location(auth.port))
    cookies = [None, "session=alice", "session=bob", "session=mallory", "session=broken", "other=1"]

    def statuses(target_port: int) -> list[int]:
        return [get_port(target_port, cookie) for cookie in cookies]

    def get_port(target_port: int, cookie: str | None) -> int:
        headers = {"Host": "guarded.test"}
        if cookie is not None:
            headers["Cookie"] = cookie
        return request(target_port, "GET", "/x", headers=headers).status

    ours, theirs = statuses(stack.http_port), statuses(port)
    assert ours == theirs == [401, 200, 200, 403, 500, 401]
    nginx.stop()


class TlsAuthService:
    """An auth service over TLS (Python's http.server in a thread): 200 for session=alice."""

    def __init__(self, pair):
        import http.server
        import ssl
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                status = 200 if "session=alice" in (self.headers.get("Cookie") or "") else 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pair.cert, pair.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_an_https_auth_service_is_verified_against_the_system_roots(module_launcher, tmp_path):
    """The dataplane trusts what the system trusts (here: SSL_CERT_FILE, which OpenSSL reads in
    place of the system bundle), and checks the name the URL gives."""
    from tlsutil import issue, make_ca

    trusted = make_ca(tmp_path / "trusted", "Trusted CA")
    stranger = make_ca(tmp_path / "stranger", "Stranger CA")
    good = TlsAuthService(issue(trusted, tmp_path / "trusted", "localhost"))
    untrusted = TlsAuthService(issue(stranger, tmp_path / "stranger", "localhost"))
    stack = PierStack(module_launcher, tmp_path / "stack")
    stack.dataplane_env = {"SSL_CERT_FILE": str(trusted.cert)}
    backend = Recorder(ok_json)
    try:
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("apps.yaml", m.render(
            *m.service_with_backends("backend", [backend.port]),
            guarded("good", "good.test", f"https://localhost:{good.port}/check", [("/", "backend")]),
            guarded("untrusted", "untrusted.test", f"https://localhost:{untrusted.port}/check", [("/", "backend")]),
            # The right CA, the wrong name: the certificate is for localhost only.
            guarded("misnamed", "misnamed.test", f"https://127.0.0.1:{good.port}/check", [("/", "backend")])))
        stack.start()
        assert get(stack, "good.test", "session=alice").status == 200
        assert get(stack, "good.test").status == 401
        assert get(stack, "untrusted.test", "session=alice").status == 500
        assert get(stack, "misnamed.test", "session=alice").status == 500
        wait_until(lambda: "TLS handshake with" in stack.dataplane.log_text(), 10, "the handshake failure logged")
    finally:
        backend.close()
        good.close()
        untrusted.close()
