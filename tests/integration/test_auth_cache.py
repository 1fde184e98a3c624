"""auth-cache-key and auth-cache-duration: the auth service's answers kept by the dataplane,
as ingress-nginx's auth cache (nginx's proxy_cache on the auth_request location).

A request whose key (here the session cookie) has a kept answer is decided by it without asking
the auth service; another key asks; answers with a status no rule of auth-cache-duration covers,
carrying Set-Cookie, or whose Cache-Control, X-Accel-Expires (0), Expires (past or unreadable)
or Vary (`*`) forbids it are not kept, and a max-age, X-Accel-Expires or Expires of the
service's is the time; an answer with other Vary names is kept per variant (the request's values
of those headers); a kept answer expires after its time; the kept 2xx still
copies auth-response-headers onto the request; the default duration is ingress-nginx's
"200 202 401 5m"; an invalid key is reported and nothing is kept. `pier_external_auth_cache_total`
counts hits and misses. Real nginx, configured as ingress-nginx configures its auth cache,
asks its auth service for the same requests exactly as often and answers the same statuses.
"""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

import manifests as m
from harness import PierStack, wait_until
from nginxutil import NGINX, auth_location, start_nginx
from promtext import metric
from rawhttp import request
from recorder import answer, Recorder, RecordedRequest, ok_json

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
CACHED = "cached.test"        # auth-cache-key $cookie_session, the default duration
SHORT = "short.test"          # the same key, "200 202 1s" (401 not kept)
INVALID = "invalid.test"      # an auth-cache-key without a variable: reported, nothing kept
UNCACHED = "uncached.test"    # no cache: every request asks


def auth_service(request: RecordedRequest) -> bytes:
    """The session cookie decides: alice, dave and erin 200, bob 202, carol 200 with a refreshed
    cookie, mallory 403, no session 401."""
    cookie = request.header("Cookie") or ""
    if any(f"session={name}" in cookie for name in ("alice", "dave", "erin")):
        return answer(200, "OK", {"X-Auth-Request-User": "alice"})
    if "session=bob" in cookie:
        return answer(202, "Accepted", {"X-Auth-Request-User": "bob"})
    if "session=carol" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "carol", "Set-Cookie": "session=carol; Max-Age=60"})
    if "session=mallory" in cookie:
        return answer(403, "Forbidden")
    # What the service says of caching its answer, as nginx reads it.
    if "session=frank" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "frank", "Cache-Control": "no-store"})
    if "session=grace" in cookie:
        return answer(403, "Forbidden", {"Cache-Control": "max-age=60"})
    if "session=heidi" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "heidi", "Cache-Control": "private, max-age=60"})
    if "session=ivan" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "ivan", "Cache-Control": "max-age=0"})
    # Expires, X-Accel-Expires and Vary, the other headers nginx's cache reads.
    in_a_minute = formatdate(time.time() + 60, usegmt=True)
    if "session=judy" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "judy", "Expires": in_a_minute})
    if "session=ken" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "ken", "Expires": "0"})
    if "session=liam" in cookie:
        return answer(403, "Forbidden", {"X-Accel-Expires": "60"})
    if "session=mike" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "mike", "X-Accel-Expires": "0"})
    if "session=nina" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "nina", "Vary": "*"})
    if "session=olga" in cookie:
        return answer(403, "Forbidden", {"Expires": in_a_minute})
    # Vary: the answer depends on X-Team too, so each team's answer is its own variant.
    if "session=pat" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "pat", "Vary": "Accept-Encoding, X-Team"})
    return answer(401, "Unauthorized", {"WWW-Authenticate": 'Bearer realm="example"'})


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory):
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("auth-cache"))
    backend = Recorder(ok_json)
    auth = Recorder(auth_service)
    check = f"http://127.0.0.1:{auth.port}/check"

    def guarded(name: str, host: str, **extra: str) -> dict:
        annotations = {NGINX_PREFIX + "auth-url": check,
                       NGINX_PREFIX + "auth-response-headers": "X-Auth-Request-User"}
        annotations.update({NGINX_PREFIX + key: value for key, value in extra.items()})
        return m.ingress(name, [("/", "backend")], annotations, host=host)

    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("apps.yaml", m.render(
        *m.service_with_backends("backend", [backend.port]),
        guarded("cached", CACHED, **{"auth-cache-key": "$cookie_session"}),
        guarded("short", SHORT, **{"auth-cache-key": "$cookie_session", "auth-cache-duration": "200 202 1s"}),
        guarded("invalid", INVALID, **{"auth-cache-key": "everyone"}),
        guarded("uncached", UNCACHED)))
    stack.start()
    yield stack, backend, auth
    backend.close()
    auth.close()


def get(port: int, host: str, session: str | tuple | None, path: str = "/x"):
    """`session`: the session cookie's value, or (value, X-Team header)."""
    headers = {"Host": host}
    session, team = session if isinstance(session, tuple) else (session, None)
    if session is not None:
        headers["Cookie"] = f"session={session}"
    if team is not None:
        headers["X-Team"] = team
    return request(port, "GET", path, headers=headers)


def asks(auth: Recorder, port: int, host: str, session: str | tuple | None, path: str = "/x") -> tuple[int, int]:
    """(status, how many times the auth service was asked) for one request."""
    before = len(auth.requests())
    status = get(port, host, session, path).status
    return status, len(auth.requests()) - before


def test_a_kept_answer_decides_without_asking_the_service(env):
    stack, backend, auth = env
    hits = metric(stack.admin_port, "pier_external_auth_cache_total", result="hit")
    assert asks(auth, stack.http_port, CACHED, "alice") == (200, 1)
    assert asks(auth, stack.http_port, CACHED, "alice") == (200, 0)
    assert asks(auth, stack.http_port, CACHED, "alice", "/other?page=2") == (200, 0)  # the key is the cookie only
    # The kept 2xx still copies the service's headers onto the request.
    assert backend.requests()[-1].header("X-Auth-Request-User") == "alice"
    # Another key asks; 202 and 401 are kept by the default duration too.
    assert asks(auth, stack.http_port, CACHED, "bob") == (200, 1)
    assert asks(auth, stack.http_port, CACHED, "bob") == (200, 0)
    refused = get(stack.http_port, CACHED, None)
    assert refused.status == 401 and refused.header("WWW-Authenticate") == 'Bearer realm="example"'
    assert asks(auth, stack.http_port, CACHED, None) == (401, 0)
    assert metric(stack.admin_port, "pier_external_auth_cache_total", result="hit") == hits + 4


def test_uncovered_statuses_and_answers_setting_a_cookie_are_not_kept(env):
    stack, _, auth = env
    assert asks(auth, stack.http_port, CACHED, "mallory") == (403, 1)
    assert asks(auth, stack.http_port, CACHED, "mallory") == (403, 1)
    assert asks(auth, stack.http_port, CACHED, "carol") == (200, 1)
    assert asks(auth, stack.http_port, CACHED, "carol") == (200, 1)
    # auth-cache-duration "200 202 1s": 401 is not kept there.
    assert asks(auth, stack.http_port, SHORT, None) == (401, 1)
    assert asks(auth, stack.http_port, SHORT, None) == (401, 1)


def test_a_kept_answer_expires(env):
    stack, _, auth = env
    assert asks(auth, stack.http_port, SHORT, "alice") == (200, 1)
    assert asks(auth, stack.http_port, SHORT, "alice") == (200, 0)
    time.sleep(1.2)
    assert asks(auth, stack.http_port, SHORT, "alice") == (200, 1)


def test_routes_keep_their_own_answers_and_no_key_means_no_cache(env):
    stack, _, auth = env
    get(stack.http_port, CACHED, "bob")  # kept now, if an earlier test did not
    assert asks(auth, stack.http_port, CACHED, "bob") == (200, 0)
    assert asks(auth, stack.http_port, SHORT, "bob") == (200, 1)  # another route: its own entries
    for _ in range(2):
        assert asks(auth, stack.http_port, UNCACHED, "alice") == (200, 1)
        assert asks(auth, stack.http_port, INVALID, "alice") == (200, 1)
    wait_until(lambda: 'nginx.ingress.kubernetes.io/auth-cache-key="everyone"' in stack.controller.log_text(), 5,
               "the invalid key reported")


# -- real nginx ------------------------------------------------------------------------------

# As ingress-nginx writes the auth location of an Ingress with auth-cache-key: proxy_cache with
# the key and proxy_cache_valid with the duration.
NGINX_HTTP = "proxy_cache_path {dir}/auth-cache keys_zone=auth_cache:1m;\n"
NGINX_SERVER = """\
location / {
    auth_request /_auth;
    proxy_pass http://127.0.0.1:%d;
}
"""
NGINX_CACHE = """\
proxy_cache auth_cache;
proxy_cache_key "$cookie_session";
proxy_cache_valid 200 202 401 5m;
"""

needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")


@needs_nginx
def test_nginx_asks_its_auth_service_as_often(env, tmp_path):
    stack, backend, _ = env
    # A fresh service per side, so that both start with nothing kept.
    sequence = ["dave", "dave", "erin", None, None, "mallory", "mallory", "carol", "carol", "erin", "dave",
                "frank", "frank", "grace", "grace", "heidi", "heidi", "ivan", "ivan",
                "judy", "judy", "ken", "ken", "liam", "liam", "mike", "mike", "nina", "nina", "olga", "olga",
                ("pat", "red"), ("pat", "red"), ("pat", "blue"), ("pat", "blue"), ("pat", "red"), ("pat", "blue"),
                "pat", "pat", ("pat", "green")]

    def run(port: int, host: str, auth: Recorder) -> list[tuple[int, int]]:
        return [asks(auth, port, host, session) for session in sequence]

    theirs_auth = Recorder(auth_service)
    try:
        _, nginx_port = start_nginx(stack.launcher, tmp_path,
                                    NGINX_SERVER % backend.port + auth_location(theirs_auth.port, NGINX_CACHE),
                                    http=NGINX_HTTP.format(dir=tmp_path))
        theirs = run(nginx_port, "localhost", theirs_auth)
    finally:
        theirs_auth.close()
    # The 401 without a session is kept already on both sides: nginx's from start_nginx's probe
    # (a request without cookie), Pier's from the request below.
    # The service's Cache-Control: no-store, private and max-age=0 keep nothing; a max-age keeps
    # even a 403 the duration does not list. Then an Expires a minute ahead keeps (a 403 too), an
    # unreadable one ("0") does not; X-Accel-Expires 60 keeps a 403, 0 keeps nothing; Vary: *
    # keeps nothing. Vary: X-Team keeps one answer per team (none is a team of its own).
    assert theirs == [(200, 1), (200, 0), (200, 1), (401, 0), (401, 0), (403, 1), (403, 1), (200, 1), (200, 1),
                      (200, 0), (200, 0), (200, 1), (200, 1), (403, 1), (403, 0), (200, 1), (200, 1), (200, 1),
                      (200, 1),
                      (200, 1), (200, 0), (200, 1), (200, 1), (403, 1), (403, 0), (200, 1), (200, 1), (200, 1),
                      (200, 1), (403, 1), (403, 0),
                      (200, 1), (200, 0), (200, 1), (200, 0), (200, 0), (200, 0), (200, 1), (200, 0), (200, 1)]
    _, _, auth = env
    get(stack.http_port, CACHED, None)  # as nginx's probe: the 401 without a session kept
    assert run(stack.http_port, CACHED, auth) == theirs
