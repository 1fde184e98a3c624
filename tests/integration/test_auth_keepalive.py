"""auth-keepalive, auth-keepalive-requests and auth-keepalive-timeout: the checks of an auth-url
service on kept keep-alive connections, as ingress-nginx's auth upstream with nginx's keepalive,
keepalive_requests and keepalive_timeout (idle connections kept per dataplane thread and service
address, as nginx keeps them per worker).

Every Ingress here has an auth service of its own (a recorder in the test process, which counts
the connections it accepts and the checks each one carried), so the counts are exact. Without
auth-keepalive every check is a connection of its own that says `Connection: close`, and Pier
closes it. With it the checks of one dataplane thread (here: one client keep-alive connection)
go out on one HTTP/1.1 connection without `Connection: close`, and checks from a new client
connection each use at most one connection per dataplane thread; auth-keepalive-requests closes
a connection after its last check; auth-keepalive-timeout closes an idle one after that long,
not before, and the next check opens a new one. A service's `Connection: close` is obeyed: such
a connection is never kept. A service closing kept connections costs no client an error: one
that closes each connection right after answering, without saying so, sees each check exactly
once, on a connection of its own; one that closes a kept connection when the next check arrives,
unanswered, gets that check once more on a new connection, which it answers. Invalid values
(`-1`, `x`, requests `0`, timeout `0`) are reported (InvalidAnnotation) and ignored: the default
applies (no keep-alive for auth-keepalive, 1000 checks and 60 s for the others). Real nginx,
configured as ingress-nginx configures auth keepalive (an upstream block with keepalive 1,
keepalive_requests 3), answers the same statuses to the same requests and opens as many
connections to its auth service, each carrying as many checks, as Pier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import pytest

import manifests as m
import tlsutil as t
from harness import PierStack, wait_until
from nginxutil import NGINX, auth_location, start_nginx
from rawhttp import Connection, format_request, request
from recorder import answer, Recorder, RecordedRequest, ok_json

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"

CLOSE_TIMEOUT_S = 5          # Pier closing a connection it does not keep
WARNING_TIMEOUT_S = 10       # the controller's InvalidAnnotation warning
IDLE_EARLIEST_S = 0.9        # auth-keepalive-timeout "1": closed no earlier than this after the answer
IDLE_LATEST_S = 2.5          # and no later (T + 1.5 s)


def auth_service(request: RecordedRequest) -> bytes:
    """The session cookie decides: alice 200, mallory 403, no session 401. Every answer has an
    empty body (Content-Length: 0): nginx keeps an auth connection only then, since auth_request
    reads the head alone."""
    cookie = request.header("Cookie") or ""
    if "session=alice" in cookie:
        return answer(200, "OK", {"X-Auth-Request-User": "alice"})
    if "session=mallory" in cookie:
        return answer(403, "Forbidden")
    return answer(401, "Unauthorized", {"WWW-Authenticate": 'Bearer realm="example"'})


def says_close(request: RecordedRequest) -> bytes:
    """200 with `Connection: close`; the recorder itself keeps the connection open."""
    return answer(200, "OK", {"Connection": "close"})


@dataclass
class Case:
    name: str                          # the Ingress
    annotations: dict[str, str]        # besides auth-url
    respond: Callable[[RecordedRequest], bytes] = auth_service
    closing: bool = False              # the service closes each connection after its first answer
    answers: int | None = None         # the service's answers_per_connection (recorder.py)


KEEPALIVE = NGINX_PREFIX + "auth-keepalive"
REQUESTS = NGINX_PREFIX + "auth-keepalive-requests"
TIMEOUT = NGINX_PREFIX + "auth-keepalive-timeout"

# Hosts, one Ingress and one auth service each.
PLAIN = "plain.test"              # no auth-keepalive
KEPT = "kept.test"                # auth-keepalive "2"
SPREAD = "spread.test"            # pier.dev/auth-keepalive "2", checked from a new client connection each
THREE = "three.test"              # auth-keepalive "1", -requests "3", pier.dev/-timeout "30s"
IDLE = "idle.test"                # auth-keepalive "1", -timeout "1"
CLOSING = "closing.test"          # auth-keepalive "4"; the service closes after each answer
RACING = "racing.test"            # auth-keepalive "4"; the service closes on a connection's second check, unanswered
SAYS_CLOSE = "says-close.test"    # auth-keepalive "4"; the service answers Connection: close
LIKE_NGINX = "like-nginx.test"    # auth-keepalive "1", -requests "3", -timeout "60": the nginx comparison
NEGATIVE = "negative.test"        # auth-keepalive "-1": invalid
WORD = "word.test"                # pier.dev/auth-keepalive "x": invalid
ZERO_REQUESTS = "zero-requests.test"  # auth-keepalive "1", -requests "0" (invalid)
ZERO_TIMEOUT = "zero-timeout.test"    # auth-keepalive "1", pier.dev/-timeout "0" (invalid)

CASES = {
    PLAIN: Case("plain", {}),
    KEPT: Case("kept", {KEEPALIVE: "2"}),
    SPREAD: Case("spread", {PIER_PREFIX + "auth-keepalive": "2"}),
    THREE: Case("three", {KEEPALIVE: "1", REQUESTS: "3", PIER_PREFIX + "auth-keepalive-timeout": "30s"}),
    IDLE: Case("idle", {KEEPALIVE: "1", TIMEOUT: "1"}),
    CLOSING: Case("closing", {KEEPALIVE: "4"}, closing=True),
    RACING: Case("racing", {KEEPALIVE: "4"}, answers=1),
    SAYS_CLOSE: Case("says-close", {KEEPALIVE: "4"}, respond=says_close),
    LIKE_NGINX: Case("like-nginx", {KEEPALIVE: "1", REQUESTS: "3", TIMEOUT: "60"}),
    NEGATIVE: Case("negative", {KEEPALIVE: "-1"}),
    WORD: Case("word", {PIER_PREFIX + "auth-keepalive": "x"}),
    ZERO_REQUESTS: Case("zero-requests", {KEEPALIVE: "1", REQUESTS: "0"}),
    ZERO_TIMEOUT: Case("zero-timeout", {KEEPALIVE: "1", PIER_PREFIX + "auth-keepalive-timeout": "0"}),
}
# host: (the invalid annotation, its value, the checks each service connection carries for 3
# requests on one client connection once the value is ignored)
INVALID = {
    NEGATIVE: (KEEPALIVE, "-1", [1, 1, 1]),                                # off
    WORD: (PIER_PREFIX + "auth-keepalive", "x", [1, 1, 1]),                # off
    ZERO_REQUESTS: (REQUESTS, "0", [3]),                                   # 1000 checks
    ZERO_TIMEOUT: (PIER_PREFIX + "auth-keepalive-timeout", "0", [3]),      # 60 s
}


@dataclass
class Env:
    stack: PierStack
    backend: Recorder
    services: dict[str, Recorder]  # host: its auth service
    threads: int                   # the dataplane's threads

    @property
    def port(self) -> int:
        return self.stack.http_port


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory):
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("auth-keepalive"))
    backend = Recorder(ok_json)
    services = {host: Recorder(case.respond, close_after_response=case.closing, answers_per_connection=case.answers)
                for host, case in CASES.items()}
    try:
        ingresses = [m.ingress(case.name, [("/", "backend")],
                               {NGINX_PREFIX + "auth-url": f"http://127.0.0.1:{services[host].port}/check",
                                **case.annotations}, host=host)
                     for host, case in CASES.items()]
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("apps.yaml", m.render(*m.service_with_backends("backend", [backend.port]), *ingresses))
        stack.start()
        argv = stack.dataplane.argv
        yield Env(stack, backend, services, int(argv[argv.index("--threads") + 1]))
    finally:
        backend.close()
        for service in services.values():
            service.close()


def one_connection(port: int, host: str, sessions: list[str | None]) -> list[int]:
    """The statuses of one request per session, in turn on one client keep-alive connection (so
    every check comes from one dataplane thread)."""
    statuses = []
    with Connection(port) as connection:
        for i, session in enumerate(sessions):
            headers = {"Cookie": f"session={session}"} if session is not None else {}
            connection.send(format_request("GET", f"/x/{i}", headers, host=host))
            statuses.append(connection.read_response().status)
    return statuses


def new_connections(port: int, host: str, count: int) -> list[int]:
    """The statuses of `count` requests, each on a client connection of its own."""
    return [request(port, "GET", f"/y/{i}", headers={"Host": host, "Cookie": "session=alice"}).status
            for i in range(count)]


def carried(service: Recorder) -> list[int]:
    """The checks each connection to the service carried, in the order they were accepted."""
    return [len(connection.requests) for connection in list(service.connections)]


def all_closed_by_pier(service: Recorder) -> bool:
    return all(connection.closed_by_peer for connection in list(service.connections))


def says_connection_close(check: RecordedRequest) -> bool:
    return "close" in (check.header("Connection") or "").lower()


def test_without_auth_keepalive_every_check_is_a_connection_of_its_own(env):
    service = env.services[PLAIN]
    assert one_connection(env.port, PLAIN, ["alice"] * 5) == [200] * 5
    assert carried(service) == [1] * 5
    assert all(says_connection_close(check) for check in service.requests())
    wait_until(lambda: all_closed_by_pier(service), CLOSE_TIMEOUT_S, "Pier closing each connection to the service",
               alive=env.stack.check_alive)


def test_the_checks_of_one_thread_share_one_connection(env):
    service = env.services[KEPT]
    assert one_connection(env.port, KEPT, ["alice"] * 10) == [200] * 10
    assert carried(service) == [10]
    for check in service.requests():
        assert check.version == "HTTP/1.1"
        assert not says_connection_close(check), check.headers
    assert not service.connections[0].closed_by_peer  # kept for the next check


def test_checks_from_new_client_connections_use_at_most_a_connection_per_thread(env):
    service = env.services[SPREAD]
    # The client's own `Connection: close` (rawhttp's request() sends it) is not the check's.
    assert new_connections(env.port, SPREAD, 10) == [200] * 10
    assert 1 <= service.connection_count() <= env.threads, carried(service)
    assert sum(carried(service)) == 10
    assert not any(says_connection_close(check) for check in service.requests())


def test_a_connection_carries_at_most_auth_keepalive_requests_checks(env):
    service = env.services[THREE]
    assert one_connection(env.port, THREE, ["alice"] * 9) == [200] * 9
    assert carried(service) == [3, 3, 3]
    # Pier closes each one after its third answer, the last one too.
    wait_until(lambda: all_closed_by_pier(service), CLOSE_TIMEOUT_S, "Pier closing each connection after 3 checks",
               alive=env.stack.check_alive)


def test_an_idle_connection_is_closed_after_auth_keepalive_timeout(env):
    service = env.services[IDLE]
    assert one_connection(env.port, IDLE, ["alice"]) == [200]
    answered = time.monotonic()
    assert carried(service) == [1]
    wait_until(lambda: service.connections[0].closed_by_peer, IDLE_LATEST_S + 1,
               "Pier closing the idle connection", interval=0.02, alive=env.stack.check_alive)
    idle = time.monotonic() - answered
    assert IDLE_EARLIEST_S <= idle <= IDLE_LATEST_S, f"closed {idle:.2f} s after the answer"
    # The next check opens a new connection.
    assert one_connection(env.port, IDLE, ["alice"]) == [200]
    assert carried(service) == [1, 1]


def test_a_kept_connection_the_service_closed_costs_no_client_an_error(env):
    service = env.services[CLOSING]
    # Back to back on one client connection: every check after the first takes the connection
    # the service has just closed (or is closing) from Pier's idle ones.
    statuses = one_connection(env.port, CLOSING, ["alice"] * 20)
    assert statuses == [200] * 20
    # Each check reached the service exactly once, each on a connection of its own.
    assert carried(service) == [1] * 20


def test_a_check_whose_kept_connection_closes_unanswered_goes_again_once(env):
    service = env.services[RACING]
    assert one_connection(env.port, RACING, ["alice"] * 10) == [200] * 10
    # Every check after the first went out on the kept connection, which the service closed
    # without a byte of an answer, and once more on a new connection, which answered it.
    assert carried(service) == [2] * 9 + [1]


def test_an_answer_with_connection_close_is_never_kept(env):
    service = env.services[SAYS_CLOSE]
    assert one_connection(env.port, SAYS_CLOSE, ["alice"] * 5) == [200] * 5
    assert carried(service) == [1] * 5
    wait_until(lambda: all_closed_by_pier(service), CLOSE_TIMEOUT_S, "Pier closing each connection it may not keep",
               alive=env.stack.check_alive)


def test_invalid_values_are_reported_and_ignored(env):
    for host, (annotation, value, expected) in INVALID.items():
        name = CASES[host].name
        assert one_connection(env.port, host, ["alice"] * 3) == [200] * 3, host
        assert carried(env.services[host]) == expected, host

        def reported() -> bool:
            return any(line.startswith("InvalidAnnotation:") and f'{annotation}="{value}"' in line
                       for line in t.controller_warnings(env.stack, name))

        wait_until(reported, WARNING_TIMEOUT_S, f"the controller's InvalidAnnotation warning about {name}",
                   alive=env.stack.check_alive)
    # auth-keepalive-timeout "0" fell back to 60 s: the connection is still kept.
    assert not env.services[ZERO_TIMEOUT].connections[0].closed_by_peer
    for host, case in CASES.items():
        if host not in INVALID:
            assert t.controller_warnings(env.stack, case.name) == [], host


# -- real nginx ------------------------------------------------------------------------------

# As ingress-nginx writes an Ingress with auth-keepalive: an upstream block for the auth service
# with keepalive, keepalive_requests and keepalive_timeout, and an auth location speaking
# HTTP/1.1 to it without `Connection: close`.
NGINX_HTTP = """\
upstream auth_keepalive {{
    server 127.0.0.1:{port};
    keepalive 1;
    keepalive_requests 3;
    keepalive_timeout 60s;
}}
"""
# start_nginx's probe (GET /) is answered without a check, so that the service sees only the
# compared requests.
NGINX_SERVER = """\
location = / {{
    return 200;
}}
location / {{
    auth_request /_auth;
    proxy_pass http://127.0.0.1:{backend};
}}
"""
NGINX_AUTH = """\
proxy_http_version 1.1;
proxy_set_header Connection "";
"""

needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")


@needs_nginx
def test_nginx_opens_as_many_connections_to_its_auth_service(env, tmp_path):
    # A 401 or 403 answer leaves its connection as reusable as a 200.
    sessions = ["alice", None, "alice", "mallory", "alice", "alice", None, "mallory", "alice"]
    theirs_auth = Recorder(auth_service)
    nginx = None
    try:
        nginx, nginx_port = start_nginx(env.stack.launcher, tmp_path,
                                    NGINX_SERVER.format(backend=env.backend.port)
                                    + auth_location("auth_keepalive", NGINX_AUTH),
                                    http=NGINX_HTTP.format(port=theirs_auth.port))
        theirs = one_connection(nginx_port, LIKE_NGINX, sessions), carried(theirs_auth)
    finally:
        if nginx is not None:
            nginx.stop()
        theirs_auth.close()
    assert theirs == ([200, 401, 200, 403, 200, 200, 401, 403, 200], [3, 3, 3])
    ours = one_connection(env.port, LIKE_NGINX, sessions), carried(env.services[LIKE_NGINX])
    assert ours == theirs


def test_nothing_crashed(env):
    env.stack.check_alive()
    assert one_connection(env.port, KEPT, ["alice", None]) == [200, 401]
