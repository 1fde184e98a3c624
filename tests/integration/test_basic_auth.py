"""auth-type basic with auth-secret: an htpasswd file made by Apache's real `htpasswd` lets its
users in with every hash it writes (MD5 apr1, bcrypt, SHA-1, SHA-256/512 crypt), anyone else gets
401 with the route's realm and reaches nothing, WebSocket upgrades included; a CORS preflight
needs no credentials; a slow bcrypt check does not hold other requests; an unusable Secret
fails closed; a changed password applies at once; and for the same requests real nginx with
auth_basic on the same file gives the same answers."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import threading
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import manifests as m
from harness import PierStack, wait_until
from nginxutil import NGINX, start_nginx
from promtext import metric
from rawhttp import Connection, format_request, request
from recorder import Recorder

HTPASSWD = shutil.which("htpasswd")
pytestmark = pytest.mark.skipif(HTPASSWD is None, reason="htpasswd is not installed (./dev installs apache2-utils)")

REALM = "Staff only"
# user -> (htpasswd flags, password). bcrypt at its cheapest cost keeps the suite fast; "slow"
# is bcrypt at a cost that takes a noticeable fraction of a second per check.
USERS = {
    "alice": (["-m"], "apple pie"),
    "bob": (["-B", "-C", "4"], "b0b:with:colons"),
    "carol": (["-s"], "sha one"),
    "dave": (["-5"], "sha-512 crypt"),
    "erin": (["-2"], "sha-256 crypt"),
    "slow": (["-B", "-C", "12"], "patience"),
}


def htpasswd_line(user: str, password: str, flags: list[str]) -> str:
    out = subprocess.run([HTPASSWD, "-nb", *flags, user, password], check=True, capture_output=True, text=True,
                         timeout=30).stdout
    return out.strip()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def auth_secret(name: str, text: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": m.NAMESPACE},
            "data": {"auth": base64.b64encode(text.encode()).decode()}}


def protected(name: str, host: str, secret: str, paths, **extra: str) -> dict:
    return m.ingress(name, paths, {"nginx.ingress.kubernetes.io/auth-type": "basic",
                                   "nginx.ingress.kubernetes.io/auth-secret": secret, **extra}, host=host)


@pytest.fixture(scope="module")
def htpasswd_file() -> str:
    lines = ["# made by htpasswd"] + [htpasswd_line(user, password, flags) for user, (flags, password) in USERS.items()]
    # `htpasswd -p` writes the password itself, which no server can tell from a hash: skipped.
    lines.append(htpasswd_line("plain", "in the clear", ["-p"]))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def auth(module_launcher, tmp_path_factory, htpasswd_file):
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("basic-auth"))
    chat = stack.start_backend("chat-1")
    recorder = Recorder()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("apps.yaml", m.render(
        *m.service_with_backends("recorder", [recorder.port]),
        *m.service_with_backends("chat", [chat.port]),
        auth_secret("users", htpasswd_file),
        protected("private", "private.test", "users", [("/", "recorder"), ("/ws", "chat")],
                  **{"nginx.ingress.kubernetes.io/auth-realm": REALM}),
        protected("browser", "api.test", "users", [("/", "recorder")],
                  **{"nginx.ingress.kubernetes.io/enable-cors": "true",
                     "nginx.ingress.kubernetes.io/cors-allow-origin": "https://app.test"}),
        protected("broken", "broken.test", "nope", [("/", "recorder")]),
        m.ingress("public", [("/", "chat")], host="public.test")))
    stack.write_manifest("rotate.yaml", m.render(
        auth_secret("rotating", htpasswd_line("alice", "first", ["-m"])),
        protected("rotate", "rotate.test", "rotating", [("/", "recorder")])))
    stack.start()
    yield stack, recorder
    recorder.close()


def get(stack, host: str, authorization: str | None = None, path: str = "/x", **headers):
    if authorization is not None:
        headers["Authorization"] = authorization
    return request(stack.http_port, "GET", path, headers={"Host": host, **headers})


def test_without_credentials_401_with_the_realm_and_nothing_reaches_the_backend(auth):
    stack, recorder = auth
    before = len(recorder.requests())
    with Connection(stack.http_port) as connection:
        for _ in range(2):  # the connection stays open for the retry with credentials
            connection.send(format_request("GET", "/x", host="private.test"))
            response = connection.read_response()
            assert response.status == 401, response.text
            assert response.header("WWW-Authenticate") == f'Basic realm="{REALM}"'
        connection.send(format_request("GET", "/x", {"Authorization": basic("alice", "apple pie")}, host="private.test"))
        assert connection.read_response().status == 200
    assert len(recorder.requests()) == before + 1
    # No auth-realm: ingress-nginx's empty realm.
    assert get(stack, "api.test").header("WWW-Authenticate") == 'Basic realm=""'


def test_every_hash_htpasswd_writes_lets_its_user_in(auth):
    stack, recorder = auth
    for user, (_, password) in USERS.items():
        response = get(stack, "private.test", basic(user, password))
        assert response.status == 200, (user, response.status, response.text)
        # The credentials go on to the backend, as with ingress-nginx.
        assert recorder.requests()[-1].header("Authorization") == basic(user, password)
        # The access log names the user (nginx's $remote_user); refused requests name none.
        wait_until(lambda: f'"user":"{user}"' in stack.dataplane.log_text(), 5, f"an access log line naming {user}")


def test_wrong_passwords_unknown_users_and_bad_headers_get_the_same_401(auth):
    stack, _ = auth
    refusals = [basic("alice", "apple pi"), basic("alice", "apple pie "), basic("bob", "b0b"), basic("mallory", "x"),
                basic("plain", "in the clear"), basic("alice", ""), "Basic", "Basic !!!!", "Bearer abc",
                "Basic " + base64.b64encode(b"alice").decode(), basic("alice:apple pie", "")]
    bodies = set()
    for authorization in refusals:
        response = get(stack, "private.test", authorization)
        assert response.status == 401, (authorization, response.status)
        assert response.header("WWW-Authenticate") == f'Basic realm="{REALM}"'
        bodies.add(response.body)
    assert len(bodies) == 1, bodies  # nothing tells an unknown user from a wrong password
    assert '"user":"mallory"' not in stack.dataplane.log_text()  # refused: no user in the access log
    # Two Authorization headers are no credentials.
    with Connection(stack.http_port) as connection:
        connection.sock.sendall(b"GET /x HTTP/1.1\r\nHost: private.test\r\nAuthorization: " +
                                basic("alice", "apple pie").encode() + b"\r\nAuthorization: " +
                                basic("alice", "apple pie").encode() + b"\r\n\r\n")
        assert connection.read_response().status == 401


def test_curl_with_a_user_and_password(auth):
    stack, _ = auth
    url = f"http://private.test:{stack.http_port}/x"
    resolve = ["--resolve", f"private.test:{stack.http_port}:127.0.0.1"]
    def status(*args: str) -> str:
        return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", *resolve,
                               *args, url], capture_output=True, text=True, timeout=10).stdout
    assert status() == "401"
    assert status("-u", "dave:sha-512 crypt") == "200"
    assert status("-u", "dave:wrong") == "401"


def test_a_websocket_upgrade_needs_credentials_too(auth):
    stack, _ = auth
    url = f"ws://private.test:{stack.http_port}/ws/echo"

    def loopback() -> socket.socket:
        return socket.create_connection(("127.0.0.1", stack.http_port), timeout=5)

    with pytest.raises(InvalidStatus) as refused, loopback() as sock:
        connect(url, sock=sock, open_timeout=5)
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["WWW-Authenticate"] == f'Basic realm="{REALM}"'
    with connect(url, sock=loopback(), additional_headers={"Authorization": basic("erin", "sha-256 crypt")},
                 open_timeout=5, close_timeout=2) as ws:
        ws.send("through")
        assert ws.recv(timeout=5) == "through"


def test_a_cors_preflight_needs_no_credentials_and_a_401_carries_cors_headers(auth):
    stack, recorder = auth
    before = len(recorder.requests())
    preflight = request(stack.http_port, "OPTIONS", "/x", headers={
        "Host": "api.test", "Origin": "https://app.test", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status == 204
    assert preflight.header("Access-Control-Allow-Origin") == "https://app.test"
    refused = get(stack, "api.test", Origin="https://app.test")
    assert refused.status == 401
    assert refused.header("Access-Control-Allow-Origin") == "https://app.test"
    assert len(recorder.requests()) == before


def test_slow_hashes_do_not_hold_other_requests(auth):
    stack, _ = auth
    started = time.monotonic()
    assert get(stack, "private.test", basic("slow", "patience")).status == 200
    one_check = time.monotonic() - started
    results: list[int] = []
    def wrong() -> None:
        results.append(get(stack, "private.test", basic("slow", "impatience")).status)
    threads = [threading.Thread(target=wrong) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    # Six slow checks are queued or running: a request that needs none is answered meanwhile
    # (through each of the dataplane's two I/O threads).
    for _ in range(4):
        started = time.monotonic()
        assert get(stack, "public.test", path="/healthz").status == 200
        assert time.monotonic() - started < max(0.5, one_check), one_check
    for thread in threads:
        thread.join(timeout=30)
    assert results == [401] * 6


def test_metrics_count_what_became_of_the_credentials(auth):
    stack, _ = auth
    def count(result: str) -> float:
        try:
            return metric(stack.admin_port, "pier_basic_auth_total", result=result)
        except KeyError:
            return 0.0
    before = {result: count(result) for result in ("missing", "denied", "allowed", "cached")}
    get(stack, "private.test")
    get(stack, "private.test", basic("carol", "wrong"))
    for _ in range(4):  # the first on each I/O thread is checked, the rest remembered
        assert get(stack, "private.test", basic("carol", "sha one")).status == 200
    assert count("missing") == before["missing"] + 1
    assert count("denied") == before["denied"] + 1
    assert count("allowed") + count("cached") == before["allowed"] + before["cached"] + 4
    assert count("cached") >= before["cached"] + 2


def test_an_unusable_secret_fails_closed_with_a_warning(auth):
    stack, recorder = auth
    before = len(recorder.requests())
    response = get(stack, "broken.test", basic("alice", "apple pie"))
    assert response.status == 503
    assert "basic authentication unusable: secret default/nope not found" in response.text
    assert len(recorder.requests()) == before
    log = lambda: stack.controller.log_text()  # noqa: E731
    wait_until(lambda: "ingress default/broken" in log() and "secret default/nope not found" in log(), 10,
               "the controller's warning for the missing Secret")
    # The line htpasswd -p wrote is named, never shown.
    wait_until(lambda: 'user "plain"' in log(), 10, "the warning for the unusable line")
    assert "in the clear" not in log()


def test_a_changed_password_applies_at_once(auth):
    stack, _ = auth
    for _ in range(3):  # remembered on every I/O thread
        assert get(stack, "rotate.test", basic("alice", "first")).status == 200
    stack.write_manifest("rotate.yaml", m.render(
        auth_secret("rotating", htpasswd_line("alice", "second", ["-m"])),
        protected("rotate", "rotate.test", "rotating", [("/", "recorder")])))
    wait_until(lambda: get(stack, "rotate.test", basic("alice", "second")).status == 200, 10, "the new password")
    assert get(stack, "rotate.test", basic("alice", "first")).status == 401


NGINX_SERVER = """\
location / {{
    auth_basic "{realm}";
    auth_basic_user_file {file};
    proxy_pass http://127.0.0.1:{backend};
}}
"""


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_answers_as_nginx_with_auth_basic(auth, htpasswd_file, tmp_path):
    stack, recorder = auth
    users_file = tmp_path / "htpasswd"
    users_file.write_text(htpasswd_file)
    nginx, port = start_nginx(stack.launcher, tmp_path, NGINX_SERVER.format(
        realm=REALM, file=users_file, backend=recorder.port))
    cases = [None, "Basic", "Bearer abc", basic("mallory", "x"), basic("plain", "in the clear")]
    for user, (_, password) in USERS.items():
        if user != "slow":
            cases += [basic(user, password), basic(user, password + "!")]

    def answers(target_port: int) -> list[tuple[int, str | None]]:
        out = []
        for authorization in cases:
            headers = {"Host": "private.test"}
            if authorization is not None:
                headers["Authorization"] = authorization
            response = request(target_port, "GET", "/x", headers=headers)
            out.append((response.status, response.header("WWW-Authenticate")))
        return out

    assert answers(stack.http_port) == answers(port)
    nginx.stop()
