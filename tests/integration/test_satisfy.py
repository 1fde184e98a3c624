"""satisfy: how the source ranges (allowlist-source-range, denylist-source-range) and the
authentication (auth-type basic, auth-url) combine, as nginx's `satisfy` directive.

`all` (the default, and what an invalid value falls back to) needs both: a client the ranges
keep out gets 403 whatever its credentials. `any` (ingress-nginx writes `deny` lines for the
denylist, then `allow` lines and `deny all` for the allowlist) serves a client the ranges let in
(an allowlist names it and the denylist does not) without asking for credentials or asking the
auth service at all, and asks every other client, a denied one too, to authenticate: 401, not
403, and its good credentials let it in. With only a denylist nginx's access module lets nobody
in by itself, so everyone authenticates. Without authentication on the Ingress `any` changes
nothing. The limits (429) and the WebSocket origin check apply to everyone; an upgrade follows
the same rules as a plain request. With both basic authentication and auth-url, either one lets
a client outside the ranges in, in nginx's order: good credentials end the check without asking
the auth service; refused ones leave it to the auth service; when that refuses too, basic
authentication's 401 stands (with the service's challenge after the realm's).

The client's address decides, so each request comes from a chosen loopback address (the client
socket is bound to 127.0.0.x): 127.0.0.2 is in the allowlist, 127.0.0.3 is in the allowlist and
in the denylist, 127.0.0.1 is in neither. Each policy is an Ingress on its own host on one shared
stack; the backend and the auth service record what reaches them. For the same requests real
nginx with satisfy, allow/deny, auth_basic and auth_request gives the same answers.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from dataclasses import dataclass
from typing import Optional

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

import manifests as m
from harness import PierStack, wait_until
from nginxutil import NGINX, auth_location, start_nginx
from rawhttp import Connection, Response, format_request
from recorder import RecordedRequest, Recorder, ok_json

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"

OUTSIDE = "127.0.0.1"  # in no range
INSIDE = "127.0.0.2"   # in the allowlist only: the ranges let it in
DENIED = "127.0.0.3"   # in the allowlist and in the denylist
SOURCES = (OUTSIDE, INSIDE, DENIED)
ALLOW = "127.0.0.2/31"
DENY = "127.0.0.3/32"

REALM = "Staff only"
USER, PASSWORD = "alice", "apple pie"
ORIGIN = "https://app.test"
TIMEOUT_S = 10.0  # per request; a full CI run may share the CPU

# Hosts, one Ingress (one policy) each.
ANY = "any.test"              # satisfy any, basic auth, allowlist + denylist
ALL = "all.test"              # satisfy all (pier.dev/ key), the same otherwise
DEFAULT = "default.test"      # no satisfy, the same otherwise
INVALID = "invalid.test"      # satisfy "some", the same otherwise
DENY_ONLY = "deny-only.test"  # satisfy any, basic auth, denylist only
NO_AUTH = "no-auth.test"      # satisfy any, allowlist + denylist, no authentication
RATE = "rate.test"            # as ANY, with limit-rpm 1 and a bucket of one request
ORIGINS = "origins.test"      # as ANY (pier.dev/satisfy), with websocket-allowed-origins
EXTERNAL = "external.test"    # satisfy any (pier.dev/ key), auth-url, allowlist + denylist
BOTH = "both.test"            # satisfy any, basic auth and auth-url, allowlist + denylist
BOTH_ALL = "both-all.test"    # the same without satisfy (all)

# Credentials: none, good, a wrong password.
NONE, GOOD, BAD = "none", "good", "bad"
CREDENTIALS = (NONE, GOOD, BAD)

# Statuses per (client, credentials), in SOURCES x CREDENTIALS order.
BOTH_NEEDED = {(OUTSIDE, NONE): 403, (OUTSIDE, GOOD): 403, (OUTSIDE, BAD): 403,
               (INSIDE, NONE): 401, (INSIDE, GOOD): 200, (INSIDE, BAD): 401,
               (DENIED, NONE): 403, (DENIED, GOOD): 403, (DENIED, BAD): 403}
EITHER_ENOUGH = {(OUTSIDE, NONE): 401, (OUTSIDE, GOOD): 200, (OUTSIDE, BAD): 401,
                 (INSIDE, NONE): 200, (INSIDE, GOOD): 200, (INSIDE, BAD): 200,
                 (DENIED, NONE): 401, (DENIED, GOOD): 200, (DENIED, BAD): 401}
CREDENTIALS_ONLY = {(source, credentials): 200 if credentials == GOOD else 401
                    for source in SOURCES for credentials in CREDENTIALS}
RANGES_ONLY = {(source, credentials): 200 if source == INSIDE else 403
               for source in SOURCES for credentials in CREDENTIALS}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


AUTHORIZATION = {NONE: None, GOOD: basic(USER, PASSWORD), BAD: basic(USER, PASSWORD + "!")}


def htpasswd_sha(user: str, password: str) -> str:
    """An htpasswd line in the {SHA} scheme (htpasswd -s), which Pier and nginx both read."""
    return f"{user}:{{SHA}}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()


def auth_secret(name: str, text: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": m.NAMESPACE},
            "data": {"auth": base64.b64encode(text.encode()).decode()}}


def auth_service(request: RecordedRequest) -> bytes:
    """The session cookie decides, as with oauth2-proxy: alice is let in, mallory forbidden."""
    if "session=alice" in (request.header("Cookie") or ""):
        return b"HTTP/1.1 200 OK\r\nX-Auth-Request-User: alice\r\nContent-Length: 0\r\n\r\n"
    if "session=mallory" in (request.header("Cookie") or ""):
        return b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
    return (b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="example"\r\n'
            b"Content-Length: 0\r\n\r\n")


# -- clients ---------------------------------------------------------------------------------

class SourceConnection(Connection):
    """rawhttp's Connection, from a chosen local address."""

    def __init__(self, port: int, source: str, timeout: float = TIMEOUT_S):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        self._reader = self.sock.makefile("rb")


def get(port: int, host: str, source: str, authorization: Optional[str] = None, cookie: Optional[str] = None,
        path: str = "/x") -> Response:
    headers = {"Connection": "close"}
    if authorization is not None:
        headers["Authorization"] = authorization
    if cookie is not None:
        headers["Cookie"] = cookie
    with SourceConnection(port, source) as connection:
        connection.send(format_request("GET", path, headers, host=host))
        return connection.read_response()


def statuses(port: int, host: str, path: str = "/x") -> dict[tuple[str, str], int]:
    return {(source, credentials): get(port, host, source, AUTHORIZATION[credentials], path=path).status
            for source in SOURCES for credentials in CREDENTIALS}


def open_ws(port: int, host: str, source: str, authorization: Optional[str] = None,
            origin: Optional[str] = None) -> ClientConnection:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S, source_address=(source, 0))
    headers = {"Authorization": authorization} if authorization else None
    try:
        return connect(f"ws://{host}/ws/echo", sock=sock, origin=origin, additional_headers=headers,
                       open_timeout=TIMEOUT_S, close_timeout=2)
    except BaseException:
        sock.close()
        raise


def refused_ws(port: int, host: str, source: str, **kwargs):
    """The HTTP response that refused a WebSocket handshake."""
    with pytest.raises(InvalidStatus) as refused:
        open_ws(port, host, source, **kwargs).close()
    return refused.value.response


def echo(ws: ClientConnection, text: str) -> None:
    with ws:
        ws.send(text)
        assert ws.recv(timeout=TIMEOUT_S) == text


# -- the shared stack ------------------------------------------------------------------------

@dataclass
class Env:
    stack: PierStack
    backend: Recorder  # every plain request's upstream
    auth: Recorder     # the auth service of auth-url

    @property
    def port(self) -> int:
        return self.stack.http_port

    def reached(self) -> int:
        return len(self.backend.requests())

    def asked(self) -> int:
        return len(self.auth.requests())


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory):
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("satisfy"))
    chat = stack.start_backend("chat-1")
    backend = Recorder(ok_json)
    auth = Recorder(auth_service)
    auth_url = f"http://127.0.0.1:{auth.port}/check"

    def policy(name: str, host: str, **annotations: str) -> dict:
        return m.ingress(name, [("/", "backend"), ("/ws", "chat")], host=host, annotations={
            (key if "/" in key else NGINX_PREFIX + key): value for key, value in annotations.items()})

    ranges = {"allowlist-source-range": ALLOW, "denylist-source-range": DENY}
    basic_auth = {"auth-type": "basic", "auth-secret": "users", "auth-realm": REALM}
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("apps.yaml", m.render(
        *m.service_with_backends("backend", [backend.port]),
        *m.service_with_backends("chat", [chat.port]),
        auth_secret("users", htpasswd_sha(USER, PASSWORD) + "\n"),
        policy("any", ANY, satisfy="any", **ranges, **basic_auth),
        policy("all", ALL, **{PIER_PREFIX + "satisfy": "all"}, **ranges, **basic_auth),
        policy("default", DEFAULT, **ranges, **basic_auth),
        policy("invalid", INVALID, satisfy="some", **ranges, **basic_auth),
        policy("deny-only", DENY_ONLY, satisfy="any", **{"denylist-source-range": DENY}, **basic_auth),
        policy("no-auth", NO_AUTH, satisfy="any", **ranges),
        policy("rate", RATE, satisfy="any", **ranges, **basic_auth,
               **{"limit-rpm": "1", "limit-burst-multiplier": "1"}),
        policy("origins", ORIGINS, **{PIER_PREFIX + "satisfy": "any"}, **ranges, **basic_auth,
               **{"websocket-allowed-origins": ORIGIN}),
        policy("external", EXTERNAL, **{PIER_PREFIX + "satisfy": "any", "auth-url": auth_url}, **ranges),
        policy("both", BOTH, satisfy="any", **ranges, **basic_auth, **{"auth-url": auth_url}),
        policy("both-all", BOTH_ALL, **ranges, **basic_auth, **{"auth-url": auth_url})))
    stack.start()
    yield Env(stack, backend, auth)
    backend.close()
    auth.close()


# -- basic authentication --------------------------------------------------------------------

def test_a_client_the_allowlist_lets_in_is_served_without_credentials(env):
    before = env.reached()
    response = get(env.port, ANY, INSIDE)
    assert response.status == 200, response.text
    assert response.header("WWW-Authenticate") is None
    # As in nginx, where the access module's `allow` ends the access phase: credentials sent
    # anyway, even wrong ones, are not checked.
    assert get(env.port, ANY, INSIDE, AUTHORIZATION[BAD]).status == 200
    assert env.reached() == before + 2
    assert env.backend.requests()[-2].header("Authorization") is None


def test_a_client_outside_the_allowlist_must_authenticate_401_not_403(env):
    before = env.reached()
    for credentials in (NONE, BAD):
        refused = get(env.port, ANY, OUTSIDE, AUTHORIZATION[credentials])
        assert refused.status == 401, (credentials, refused.status, refused.text)
        assert refused.header("WWW-Authenticate") == f'Basic realm="{REALM}"'
    assert env.reached() == before
    response = get(env.port, ANY, OUTSIDE, AUTHORIZATION[GOOD])
    assert response.status == 200, response.text
    assert env.reached() == before + 1
    assert statuses(env.port, ANY) == EITHER_ENOUGH


def test_good_credentials_let_a_client_of_the_denylist_in(env):
    # nginx's satisfy any: auth_basic's OK overrides the access module's deny.
    refused = get(env.port, ANY, DENIED)
    assert refused.status == 401, refused.text
    assert refused.header("WWW-Authenticate") == f'Basic realm="{REALM}"'
    assert get(env.port, ANY, DENIED, AUTHORIZATION[BAD]).status == 401
    assert get(env.port, ANY, DENIED, AUTHORIZATION[GOOD]).status == 200


def test_with_only_a_denylist_everyone_must_authenticate(env):
    # No allowlist: nginx's access module declines for a client no rule names, and allows none.
    for source in SOURCES:
        refused = get(env.port, DENY_ONLY, source)
        assert refused.status == 401, (source, refused.status, refused.text)
        assert refused.header("WWW-Authenticate") == f'Basic realm="{REALM}"'
    assert statuses(env.port, DENY_ONLY) == CREDENTIALS_ONLY


def test_satisfy_all_and_the_default_need_both(env):
    assert statuses(env.port, ALL) == BOTH_NEEDED
    assert statuses(env.port, DEFAULT) == BOTH_NEEDED
    assert "is not in allowlist-source-range" in get(env.port, ALL, OUTSIDE, AUTHORIZATION[GOOD]).text
    assert "is denied by denylist-source-range" in get(env.port, DEFAULT, DENIED, AUTHORIZATION[GOOD]).text


def test_an_invalid_value_is_reported_and_the_route_needs_both(env):
    assert statuses(env.port, INVALID) == BOTH_NEEDED
    log = env.stack.controller.log_text
    wait_until(lambda: re.search(r'InvalidAnnotation: ingress default/invalid: annotation '
                                 r'nginx\.ingress\.kubernetes\.io/satisfy="some"', log()),
               10, "the controller's InvalidAnnotation warning about satisfy \"some\"")
    for name in ("any", "all", "default", "deny-only", "no-auth", "rate", "origins", "external", "both"):
        assert f"ingress default/{name}: annotation {NGINX_PREFIX}satisfy" not in log(), name
        assert f"ingress default/{name}: annotation {PIER_PREFIX}satisfy" not in log(), name


def test_without_authentication_satisfy_any_changes_nothing(env):
    assert statuses(env.port, NO_AUTH) == RANGES_ONLY
    outside = get(env.port, NO_AUTH, OUTSIDE, AUTHORIZATION[GOOD])
    assert outside.header("WWW-Authenticate") is None
    assert outside.text == f"client {OUTSIDE} is not in allowlist-source-range\n"
    assert get(env.port, NO_AUTH, DENIED).text == f"client {DENIED} is denied by denylist-source-range\n"


# -- limits and WebSockets -------------------------------------------------------------------

def test_the_limits_still_apply_to_everyone(env):
    # A bucket of one request a minute per client: every client's second request is over it.
    assert get(env.port, RATE, INSIDE).status == 200
    over = get(env.port, RATE, INSIDE)
    assert over.status == 429, over.text
    assert over.text.startswith("rate limit of ")
    for source in (OUTSIDE, DENIED):
        assert get(env.port, RATE, source, AUTHORIZATION[GOOD]).status == 200, source
        assert get(env.port, RATE, source, AUTHORIZATION[GOOD]).status == 429, source
        # The limit comes before the credentials, as nginx's limit_req (preaccess) before access.
        assert get(env.port, RATE, source).status == 429, source


def test_a_websocket_upgrade_follows_the_same_rules(env):
    echo(open_ws(env.port, ANY, INSIDE), "let in by the allowlist")
    for source in (OUTSIDE, DENIED):
        refusal = refused_ws(env.port, ANY, source)
        assert refusal.status_code == 401, (source, refusal.status_code, refusal.body)
        assert refusal.headers["WWW-Authenticate"] == f'Basic realm="{REALM}"'
        assert refused_ws(env.port, ANY, source, authorization=AUTHORIZATION[BAD]).status_code == 401
        echo(open_ws(env.port, ANY, source, authorization=AUTHORIZATION[GOOD]), f"authenticated from {source}")


def test_the_websocket_origin_check_still_applies_to_everyone(env):
    echo(open_ws(env.port, ORIGINS, INSIDE, origin=ORIGIN), "allowed origin, let in by the allowlist")
    refusal = refused_ws(env.port, ORIGINS, INSIDE, origin="https://evil.test")
    assert refusal.status_code == 403
    assert b"is not in websocket-allowed-origins" in refusal.body
    assert refused_ws(env.port, ORIGINS, OUTSIDE, origin=ORIGIN).status_code == 401
    refusal = refused_ws(env.port, ORIGINS, OUTSIDE, origin="https://evil.test", authorization=AUTHORIZATION[GOOD])
    assert refusal.status_code == 403
    echo(open_ws(env.port, ORIGINS, OUTSIDE, origin=ORIGIN, authorization=AUTHORIZATION[GOOD]),
         "allowed origin, authenticated")
    # Plain requests are not handshakes: the origin list does not apply to them.
    assert get(env.port, ORIGINS, INSIDE).status == 200


# -- auth-url --------------------------------------------------------------------------------

def test_auth_url_is_not_asked_for_a_client_the_allowlist_lets_in(env):
    asked, reached = env.asked(), env.reached()
    response = get(env.port, EXTERNAL, INSIDE)
    assert response.status == 200, response.text
    assert env.asked() == asked, "the auth service was asked about a client the allowlist lets in"
    assert env.reached() == reached + 1
    # Outside the ranges (denied ones too) the auth service decides.
    for source in (OUTSIDE, DENIED):
        asked = env.asked()
        refused = get(env.port, EXTERNAL, source)
        assert refused.status == 401, (source, refused.status, refused.text)
        assert refused.header("WWW-Authenticate") == 'Bearer realm="example"'
        assert env.asked() == asked + 1
        assert get(env.port, EXTERNAL, source, cookie="session=alice").status == 200, source
        assert env.asked() == asked + 2
    assert env.reached() == reached + 3


def challenges(response: Response) -> list[str]:
    return [value for name, value in response.headers if name.lower() == "www-authenticate"]


def test_with_basic_auth_and_auth_url_either_one_lets_a_client_outside_the_ranges_in(env):
    asked, reached = env.asked(), env.reached()
    assert get(env.port, BOTH, INSIDE).status == 200
    assert env.asked() == asked
    # Good credentials end the check: the auth service is not asked, the user is logged.
    for source in (OUTSIDE, DENIED):
        response = get(env.port, BOTH, source, AUTHORIZATION[GOOD])
        assert response.status == 200, (source, response.text)
    assert env.asked() == asked
    # Without them (or with wrong ones) the auth service decides.
    for credentials in (NONE, BAD):
        for source in (OUTSIDE, DENIED):
            response = get(env.port, BOTH, source, AUTHORIZATION[credentials], cookie="session=alice")
            assert response.status == 200, (source, credentials, response.text)
    assert env.asked() == asked + 4
    assert env.reached() == reached + 7
    # Both refuse: basic authentication's 401, the realm's challenge first, then the service's.
    refused = get(env.port, BOTH, OUTSIDE, AUTHORIZATION[BAD])
    assert refused.status == 401, refused.text
    assert challenges(refused) == [f'Basic realm="{REALM}"', 'Bearer realm="example"']
    # A service that forbids does not turn the 401 into a 403, nor add a challenge.
    refused = get(env.port, BOTH, DENIED, cookie="session=mallory")
    assert refused.status == 401, refused.text
    assert challenges(refused) == [f'Basic realm="{REALM}"']
    assert env.asked() == asked + 6
    assert env.reached() == reached + 7


def test_with_basic_auth_and_auth_url_satisfy_all_needs_both(env):
    # The same two authentications under the default policy: inside the ranges both must pass.
    asked = env.asked()
    assert get(env.port, BOTH_ALL, INSIDE, AUTHORIZATION[GOOD]).status == 401
    assert get(env.port, BOTH_ALL, INSIDE, cookie="session=alice").status == 401
    assert get(env.port, BOTH_ALL, INSIDE, AUTHORIZATION[GOOD], cookie="session=alice").status == 200
    assert get(env.port, BOTH_ALL, OUTSIDE, AUTHORIZATION[GOOD], cookie="session=alice").status == 403
    assert env.asked() == asked + 2


# -- real nginx ------------------------------------------------------------------------------

# What ingress-nginx writes for each policy: `deny` per denylist entry, then `allow` per
# allowlist entry and `deny all`, around the location's authentication.
NGINX_SERVER = """\
location /any/ {{
    satisfy any;
    deny {deny}; allow {allow}; deny all;
    auth_basic "{realm}"; auth_basic_user_file {users};
    proxy_pass http://127.0.0.1:{backend};
}}
location /all/ {{
    satisfy all;
    deny {deny}; allow {allow}; deny all;
    auth_basic "{realm}"; auth_basic_user_file {users};
    proxy_pass http://127.0.0.1:{backend};
}}
location /deny-only/ {{
    satisfy any;
    deny {deny};
    auth_basic "{realm}"; auth_basic_user_file {users};
    proxy_pass http://127.0.0.1:{backend};
}}
location /no-auth/ {{
    satisfy any;
    deny {deny}; allow {allow}; deny all;
    proxy_pass http://127.0.0.1:{backend};
}}
location /external/ {{
    satisfy any;
    deny {deny}; allow {allow}; deny all;
    auth_request /_auth;
    proxy_pass http://127.0.0.1:{backend};
}}
location /both/ {{
    satisfy any;
    deny {deny}; allow {allow}; deny all;
    auth_basic "{realm}"; auth_basic_user_file {users};
    auth_request /_auth;
    proxy_pass http://127.0.0.1:{backend};
}}
location /both-all/ {{
    deny {deny}; allow {allow}; deny all;
    auth_basic "{realm}"; auth_basic_user_file {users};
    auth_request /_auth;
    proxy_pass http://127.0.0.1:{backend};
}}
"""

needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")


@pytest.fixture(scope="module")
def nginx_port(env, tmp_path_factory) -> int:
    directory = tmp_path_factory.mktemp("nginx")
    users = directory / "htpasswd"
    users.write_text(htpasswd_sha(USER, PASSWORD) + "\n")
    _, port = start_nginx(env.stack.launcher, directory, NGINX_SERVER.format(
        deny=DENY, allow=ALLOW, realm=REALM, users=users, backend=env.backend.port) + auth_location(env.auth.port))
    return port


@needs_nginx
@pytest.mark.parametrize("host, location, expected", [
    (ANY, "any", EITHER_ENOUGH),
    (ALL, "all", BOTH_NEEDED),
    (DEFAULT, "all", BOTH_NEEDED),
    (DENY_ONLY, "deny-only", CREDENTIALS_ONLY),
    (NO_AUTH, "no-auth", RANGES_ONLY),
])
def test_the_same_answers_as_nginx_with_satisfy_and_auth_basic(env, nginx_port, host, location, expected):
    def answers(port: int, request_host: str, path: str) -> dict:
        out = {}
        for source in SOURCES:
            for credentials in CREDENTIALS:
                response = get(port, request_host, source, AUTHORIZATION[credentials], path=path)
                out[(source, credentials)] = (response.status, response.header("WWW-Authenticate"))
        return out

    theirs = answers(nginx_port, "localhost", f"/{location}/x")
    assert {key: status for key, (status, _) in theirs.items()} == expected  # nginx does what we say it does
    assert answers(env.port, host, "/x") == theirs


@needs_nginx
def test_the_same_answers_as_nginx_with_satisfy_any_and_auth_request(env, nginx_port):
    def answers(port: int, host: str, path: str) -> dict:
        out = {}
        for source in SOURCES:
            for cookie in (None, "session=alice"):
                asked = env.asked()
                status = get(port, host, source, cookie=cookie, path=path).status
                out[(source, cookie)] = (status, env.asked() - asked)
        return out

    theirs = answers(nginx_port, "localhost", "/external/x")
    assert theirs == {(OUTSIDE, None): (401, 1), (OUTSIDE, "session=alice"): (200, 1),
                      (INSIDE, None): (200, 0), (INSIDE, "session=alice"): (200, 0),
                      (DENIED, None): (401, 1), (DENIED, "session=alice"): (200, 1)}
    assert answers(env.port, EXTERNAL, "/x") == theirs


@needs_nginx
@pytest.mark.parametrize("host, location", [(BOTH, "both"), (BOTH_ALL, "both-all")])
def test_the_same_answers_as_nginx_with_auth_basic_and_auth_request(env, nginx_port, host, location):
    def answers(port: int, request_host: str, path: str) -> dict:
        out = {}
        for source in SOURCES:
            for credentials in CREDENTIALS:
                for cookie in (None, "session=alice", "session=mallory"):
                    asked = env.asked()
                    response = get(port, request_host, source, AUTHORIZATION[credentials], cookie=cookie, path=path)
                    out[(source, credentials, cookie)] = (response.status, challenges(response), env.asked() - asked)
        return out

    theirs = answers(nginx_port, "localhost", f"/{location}/x")
    if location == "both":  # nginx takes either, as the test above says of Pier
        assert theirs[(OUTSIDE, GOOD, None)] == (200, [], 0)
        assert theirs[(OUTSIDE, BAD, "session=alice")] == (200, [], 1)
        assert theirs[(OUTSIDE, BAD, None)] == (401, [f'Basic realm="{REALM}"', 'Bearer realm="example"'], 1)
    assert answers(env.port, host, "/x") == theirs
