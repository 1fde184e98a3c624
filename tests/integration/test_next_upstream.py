"""proxy-next-upstream, -tries, -timeout: a try that failed in a way the list names goes on to an
endpoint the request has not tried, as nginx's proxy_next_upstream.

Every endpoint is a recorder in this process with one scripted behaviour: it answers 200, answers
503, closes the connection after reading the request without a word (an `error`), or reads the
request and stays silent (a `timeout` once proxy-read-timeout passes); one endpoint is a port
nothing listens on (a refused connect). Endpoints that close after their answer (close503) make
every try of a request a new connection, as a request whose endpoint has none pooled. Each answer names its endpoint, and every request any
endpoint reads goes into one journal, in arrival order, under its target: each request the test
sends has a target of its own, so the journal says which endpoints it reached and in what order.

Round robin runs per dataplane thread, and passive health ejects an endpoint after a refused
connect or a fresh connection closed without an answer, so which endpoint a request reaches
first is not fixed: the assertions count, per request, what reached the backends, and a batch of
requests is large enough that round robin must reach the endpoint under test at least once.

For the same endpoints real nginx (an upstream of the same recorders, max_fails=0 so that it
never marks a peer down) gives the same statuses and sends each request to as many backends.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest

import manifests as m
from harness import PierStack, free_port, wait_until
from nginxutil import NGINX, start_nginx
from promtext import metric
from rawhttp import Connection, Response, format_request, request
from recorder import RecordedRequest, Recorder

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
PIER_PREFIX = "pier.dev/"
TIMEOUT_S = 10.0         # per client request; a full CI run may share the CPU
SILENCE_S = 30.0         # how long a silent endpoint keeps quiet at most (until teardown)
READ_TIMEOUT_S = 1.0     # proxy-read-timeout of the routes with silent endpoints
BATCH = 6                # requests per batch: over 2 threads' round robin, every endpoint is hit
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Hosts, one Ingress each: its Service (endpoints) and annotations.
DEFAULT = "default.test"      # mixed-closing: default policy (error timeout, 3 tries)
CLOSING = "closing.test"      # closing3: every endpoint closes without answering, default policy
POST = "post.test"            # mixed-post: as mixed-closing, own endpoints (own health state)
S503 = "s503.test"            # mostly503: two 503 endpoints and one 200, error timeout http_503
ALL503 = "all503.test"        # all503: three 503 endpoints, error timeout http_503
TRIES2 = "tries2.test"        # all503, http_503 with 2 tries (pier.dev/ keys)
CLOSE503 = "close503.test"    # close503: three 503 endpoints that close after it, error timeout http_503
NONIDEM = "nonidem.test"      # close503, error timeout http_503 non_idempotent
TRIES0 = "tries0.test"        # five503: five 503 endpoints, http_503 with tries 0 (all of them)
OFF = "off.test"              # refused-ok: a refused port and a 200 endpoint, off
TIMEOUT = "timeout.test"      # silent-ok: a silent endpoint and a 200 one, read timeout 1 s
ERRORS = "errors.test"        # silent-ok, read timeout 1 s, error only
BUDGET1 = "budget1.test"      # silent3: three silent endpoints, next-upstream-timeout 1
BUDGET2 = "budget2.test"      # silent3, next-upstream-timeout 1500ms
WS = "ws.test"                # ws: one endpoint refuses upgrades with 503, one accepts, http_503


def status_body(name: str, status: int) -> str:
    return f"{status} from {name}\n"


# -- the endpoints -----------------------------------------------------------------------------

@dataclass
class Journal:
    """Every request any endpoint read: (endpoint name, method, target), in arrival order."""
    entries: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, name: str, req: RecordedRequest) -> None:
        with self.lock:
            self.entries.append((name, req.method, req.target))

    def reached(self, target: str) -> list[str]:
        """The endpoints that read the request for `target`, in order."""
        with self.lock:
            return [name for name, _, seen in self.entries if seen == target]

    def batch(self, prefix: str) -> list[str]:
        with self.lock:
            return [name for name, _, seen in self.entries if seen.startswith(prefix)]


def answer(name: str, status: int, close: bool = False) -> bytes:
    body = status_body(name, status).encode()
    reason = {200: "OK", 503: "Service Unavailable"}[status]
    connection = "Connection: close\r\n" if close else ""
    return (f"HTTP/1.1 {status} {reason}\r\nX-Backend: {name}\r\nContent-Type: text/plain\r\n{connection}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def switching_protocols(name: str, req: RecordedRequest) -> bytes:
    if (req.header("Upgrade") or "").lower() != "websocket":
        return answer(name, 200)
    accept = base64.b64encode(hashlib.sha1((req.header("Sec-WebSocket-Key") + WS_GUID).encode()).digest())
    return (f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept.decode()}\r\nX-Backend: {name}\r\n\r\n").encode()


@dataclass
class Env:
    stack: PierStack
    journal: Journal
    recorders: dict[str, Recorder]
    _tags: itertools.count = field(default_factory=itertools.count)

    @property
    def port(self) -> int:
        return self.stack.http_port

    def target(self, label: str) -> str:
        """A target no other request of the module has."""
        return f"/{label}/{next(self._tags)}"

    def send(self, host: str, target: str, method: str = "GET", body: bytes = b"",
             headers: Optional[dict] = None, port: Optional[int] = None) -> Response:
        try:
            return request(port or self.port, method, target, headers={"Host": host, **(headers or {})},
                           body=body, timeout=TIMEOUT_S)
        except socket.timeout:
            pytest.fail(f"{method} {host}{target}: no answer in {TIMEOUT_S:.0f} s; "
                        f"endpoints that read it: {self.journal.reached(target)}", pytrace=False)

    def retries(self, ingress: str) -> float:
        """pier_upstream_retries_total{reason="next_endpoint"} of an Ingress (0 before its first
        request: the series appear with the route's first use)."""
        try:
            return metric(self.stack.admin_port, "pier_upstream_retries_total", ingress=ingress,
                          reason="next_endpoint")
        except KeyError:
            return 0.0


@pytest.fixture(scope="module")
def env(module_launcher, tmp_path_factory):
    journal = Journal()
    silence = threading.Event()
    recorders: dict[str, Recorder] = {}

    def endpoint(name: str, behaviour: Callable[[str, RecordedRequest], bytes], close: bool = False) -> int:
        def respond(req: RecordedRequest) -> bytes:
            journal.note(name, req)
            return behaviour(name, req)
        recorders[name] = Recorder(respond, close_after_response=close)
        return recorders[name].port

    def ok(name: str) -> int:
        return endpoint(name, lambda n, _: answer(n, 200))

    def unavailable(name: str) -> int:
        return endpoint(name, lambda n, _: answer(n, 503))

    def unavailable_once(name: str) -> int:  # a 503 and Connection: close: every try connects anew
        return endpoint(name, lambda n, _: answer(n, 503, close=True), close=True)

    def closing(name: str) -> int:  # reads the request, closes without a byte
        return endpoint(name, lambda n, _: b"", close=True)

    def say_nothing(name: str, _: RecordedRequest) -> bytes:
        silence.wait(SILENCE_S)
        return b""

    def silent(name: str) -> int:   # reads the request, says nothing until the module ends
        return endpoint(name, say_nothing, close=True)

    refused_port = free_port()  # nothing listens there
    services = {
        "mixed-closing": [closing("mc-close"), ok("mc-ok1"), ok("mc-ok2")],
        "closing3": [closing("c3-a"), closing("c3-b"), closing("c3-c")],
        "mixed-post": [closing("mp-close"), ok("mp-ok1"), ok("mp-ok2")],
        "mostly503": [unavailable("m5-a"), unavailable("m5-b"), ok("m5-ok")],
        "all503": [unavailable("a5-a"), unavailable("a5-b"), unavailable("a5-c")],
        "close503": [unavailable_once("c5-a"), unavailable_once("c5-b"), unavailable_once("c5-c")],
        "five503": [unavailable(f"f5-{i}") for i in range(5)],
        "refused-ok": [refused_port, ok("ro-ok")],
        "silent-ok": [silent("so-silent"), ok("so-ok")],
        "silent3": [silent("s3-a"), silent("s3-b"), silent("s3-c")],
        "ws": [unavailable("ws-503"), endpoint("ws-101", switching_protocols)],
    }
    read_timeout = {"proxy-read-timeout": "1"}
    routes = {  # host -> (Service, annotations)
        DEFAULT: ("mixed-closing", {}),
        CLOSING: ("closing3", {}),
        POST: ("mixed-post", {}),
        S503: ("mostly503", {"proxy-next-upstream": "error timeout http_503"}),
        ALL503: ("all503", {"proxy-next-upstream": "error timeout http_503"}),
        TRIES2: ("all503", {PIER_PREFIX + "proxy-next-upstream": "http_503",
                            PIER_PREFIX + "proxy-next-upstream-tries": "2"}),
        CLOSE503: ("close503", {"proxy-next-upstream": "error timeout http_503"}),
        NONIDEM: ("close503", {"proxy-next-upstream": "error timeout http_503 non_idempotent"}),
        TRIES0: ("five503", {"proxy-next-upstream": "http_503", "proxy-next-upstream-tries": "0"}),
        OFF: ("refused-ok", {"proxy-next-upstream": "off"}),
        TIMEOUT: ("silent-ok", read_timeout),
        ERRORS: ("silent-ok", {**read_timeout, "proxy-next-upstream": "error"}),
        BUDGET1: ("silent3", {**read_timeout, "proxy-next-upstream-timeout": "1"}),
        BUDGET2: ("silent3", {**read_timeout, "proxy-next-upstream-timeout": "1500ms"}),
        WS: ("ws", {"proxy-next-upstream": "error timeout http_503"}),
    }
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("next-upstream"))
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    objects = [o for name, ports in services.items() for o in m.service_with_backends(name, ports)]
    for host, (service, annotations) in routes.items():
        objects.append(m.ingress(host.split(".")[0], [("/", service)], host=host, annotations={
            (key if "/" in key else NGINX_PREFIX + key): value for key, value in annotations.items()}))
    stack.write_manifest("apps.yaml", m.render(*objects))
    stack.start()
    yield Env(stack, journal, recorders)
    silence.set()
    for recorder in recorders.values():
        recorder.close()


def is_answer_of(response: Response, name: str, status: int) -> bool:
    return (response.status, response.header("X-Backend"), response.text) == (status, name, status_body(name, status))


# -- error (the default policy) ----------------------------------------------------------------

def test_by_default_a_get_whose_endpoint_closes_goes_on_to_another(env):
    for _ in range(BATCH):
        target = env.target("default-get")
        response = env.send(DEFAULT, target)
        reached = env.journal.reached(target)
        assert response.status == 200, (target, reached, response.status, response.text)
        # Served by the last endpoint it reached, after the closing one if it went there first.
        assert reached[-1] in ("mc-ok1", "mc-ok2") and is_answer_of(response, reached[-1], 200), reached
        assert reached in ([reached[-1]], ["mc-close", reached[-1]]), reached
    # Round robin reached the closing endpoint at least once, and that request was sent again.
    assert "mc-close" in env.journal.batch("/default-get/")


def test_with_every_endpoint_closing_a_get_is_tried_three_times_and_gets_502(env):
    target = env.target("closing-get")
    response = env.send(CLOSING, target)
    assert response.status == 502, response.text
    assert sorted(env.journal.reached(target)) == ["c3-a", "c3-b", "c3-c"]
    log = env.stack.dataplane.log_text
    wait_until(lambda: re.search(rf"upstream 127\.0\.0\.1:\d+ for {re.escape(CLOSING + target)} .*"
                                 r"upstream closed the connection before responding; trying 127\.0\.0\.1:\d+ \(try 3\)",
                                 log()), 5, "the dataplane's log of the third try")


def test_a_post_with_a_body_is_not_sent_again(env):
    # Every endpoint closes (so every try is a new connection): a POST with a body reaches one
    # and stops where a GET reaches all three.
    target = env.target("closing-post")
    response = env.send(CLOSING, target, "POST", body=b"order=1")
    assert response.status == 502, response.text
    assert len(env.journal.reached(target)) == 1
    get = env.target("closing-get")
    assert env.send(CLOSING, get).status == 502
    assert len(env.journal.reached(get)) == 3

    # One endpoint of three closes: a POST that lands there gets 502, the others 200; none moves.
    outcomes = []
    for i in range(BATCH):
        target = env.target("post")
        response = env.send(POST, target, "POST", body=f"order={i}".encode())
        outcomes.append((response.status, env.journal.reached(target)))
    assert all(reached in (["mp-close"], ["mp-ok1"], ["mp-ok2"]) for _, reached in outcomes), outcomes
    assert all(status == (502 if reached == ["mp-close"] else 200) for status, reached in outcomes), outcomes
    assert any(reached == ["mp-close"] for _, reached in outcomes), outcomes
    # A GET is sent again where a POST was not: a closing endpoint is ejected for a second after
    # each failure, so ask until round robin reaches it again.
    def get_moved() -> bool:
        target = env.target("post-get")
        response = env.send(POST, target)
        assert response.status == 200, (response.status, env.journal.reached(target))
        return env.journal.reached(target)[0] == "mp-close" and len(env.journal.reached(target)) == 2
    wait_until(get_moved, 15, "a GET to reach the closing endpoint and move on", interval=0.2)


# -- statuses, tries -------------------------------------------------------------------------

def test_http_503_moves_a_get_until_an_endpoint_answers_200(env):
    for _ in range(BATCH):
        target = env.target("s503")
        response = env.send(S503, target)
        reached = env.journal.reached(target)
        assert is_answer_of(response, "m5-ok", 200), (reached, response.status, response.text)
        assert reached[-1] == "m5-ok" and len(set(reached)) == len(reached) <= 3, reached
    assert {"m5-a", "m5-b"} & set(env.journal.batch("/s503/")), "no request reached a 503 endpoint"


def test_when_every_endpoint_answers_503_the_client_gets_the_last_one(env):
    for _ in range(3):
        target = env.target("all503")
        response = env.send(ALL503, target)
        reached = env.journal.reached(target)
        assert sorted(reached) == ["a5-a", "a5-b", "a5-c"], reached
        # The backend's own 503, as the last endpoint sent it.
        assert is_answer_of(response, reached[-1], 503), (reached, response.status, response.headers, response.text)


def test_tries_limits_the_endpoints_a_request_reaches(env):
    target = env.target("tries2")
    response = env.send(TRIES2, target)
    reached = env.journal.reached(target)
    assert len(reached) == 2 and len(set(reached)) == 2, reached
    assert is_answer_of(response, reached[-1], 503), (reached, response.status, response.text)
    # 0: every endpoint, here five of them.
    target = env.target("tries0")
    response = env.send(TRIES0, target)
    reached = env.journal.reached(target)
    assert sorted(reached) == [f"f5-{i}" for i in range(5)], reached
    assert is_answer_of(response, reached[-1], 503), (reached, response.status, response.text)


def test_a_post_without_a_body_moves_only_with_non_idempotent(env):
    # The close503 endpoints close after each answer: every try is on a new connection.
    empty = {"Content-Length": "0"}
    for _ in range(3):
        target = env.target("post503")
        response = env.send(CLOSE503, target, "POST", headers=empty)
        reached = env.journal.reached(target)
        assert len(reached) == 1 and is_answer_of(response, reached[0], 503), (reached, response.status)
    target = env.target("nonidem")
    response = env.send(NONIDEM, target, "POST", headers=empty)
    reached = env.journal.reached(target)
    assert sorted(reached) == ["c5-a", "c5-b", "c5-c"], reached
    assert is_answer_of(response, reached[-1], 503), (reached, response.status)
    # Other methods need no non_idempotent (a DELETE is idempotent).
    target = env.target("delete503")
    env.send(CLOSE503, target, "DELETE")
    assert len(env.journal.reached(target)) == 3


# -- off, timeouts -----------------------------------------------------------------------------

def test_off_does_not_even_retry_a_refused_connect(env):
    retries = env.retries("off")
    statuses = []
    for _ in range(BATCH):
        target = env.target("off")
        response = env.send(OFF, target)
        reached = env.journal.reached(target)
        assert (response.status, reached) in ((502, []), (200, ["ro-ok"])), (response.status, reached)
        statuses.append(response.status)
    # Round robin sent at least one request to the refused port, and it was not moved.
    assert 502 in statuses, statuses
    assert env.retries("off") == retries


def test_a_read_timeout_moves_a_get_and_without_timeout_in_the_list_is_a_504(env):
    for _ in range(3):
        target = env.target("timeout")
        started = time.monotonic()
        response = env.send(TIMEOUT, target)
        elapsed = time.monotonic() - started
        reached = env.journal.reached(target)
        assert is_answer_of(response, "so-ok", 200), (reached, response.status, response.text)
        assert reached in (["so-ok"], ["so-silent", "so-ok"]), reached
        if reached[0] == "so-silent":
            assert READ_TIMEOUT_S - 0.1 <= elapsed < READ_TIMEOUT_S + 1.5, elapsed
    assert "so-silent" in env.journal.batch("/timeout/")

    # proxy-next-upstream: error: the timeout is the answer.
    outcomes = []
    for _ in range(3):
        target = env.target("errors")
        response = env.send(ERRORS, target)
        outcomes.append((response.status, env.journal.reached(target)))
    assert all(o in ((504, ["so-silent"]), (200, ["so-ok"])) for o in outcomes), outcomes
    assert (504, ["so-silent"]) in outcomes, outcomes


def test_next_upstream_timeout_stops_further_tries(env):
    # 1 s: the first try's read timeout uses the budget up, no second try.
    target = env.target("budget1")
    started = time.monotonic()
    response = env.send(BUDGET1, target)
    elapsed = time.monotonic() - started
    assert response.status == 504, response.text
    assert len(env.journal.reached(target)) == 1, env.journal.reached(target)
    assert READ_TIMEOUT_S - 0.1 <= elapsed < 2 * READ_TIMEOUT_S, elapsed
    # 1.5 s: a second try starts after 1 s, no third after 2 s (three would take 3 s).
    target = env.target("budget2")
    started = time.monotonic()
    response = env.send(BUDGET2, target)
    elapsed = time.monotonic() - started
    reached = env.journal.reached(target)
    assert response.status == 504, response.text
    assert len(reached) == 2 and len(set(reached)) == 2, reached
    assert 2 * READ_TIMEOUT_S - 0.1 <= elapsed < 3 * READ_TIMEOUT_S, elapsed


# -- the metric, WebSockets --------------------------------------------------------------------

def test_every_request_sent_again_is_counted(env):
    before = env.retries("all503")
    sent_again = 0
    for _ in range(4):
        target = env.target("counted")
        assert env.send(ALL503, target).status == 503
        sent_again += len(env.journal.reached(target)) - 1
    assert sent_again == 8
    assert env.retries("all503") - before == sent_again


def test_a_websocket_upgrade_refused_with_503_goes_to_another_endpoint(env):
    for _ in range(4):
        target = env.target("ws")
        key = base64.b64encode(os.urandom(16)).decode()
        with Connection(env.port, timeout=TIMEOUT_S) as connection:
            connection.send(format_request("GET", target, {
                "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": key,
                "Sec-WebSocket-Version": "13"}, host=WS))
            response = connection.read_response()
        reached = env.journal.reached(target)
        assert response.status == 101, (reached, response.status, response.body)
        assert response.header("X-Backend") == "ws-101"
        assert response.header("Sec-WebSocket-Accept") == base64.b64encode(
            hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        assert reached in (["ws-101"], ["ws-503", "ws-101"]), reached
    assert "ws-503" in env.journal.batch("/ws/")


# -- real nginx --------------------------------------------------------------------------------

NGINX_SERVER = """\
proxy_next_upstream_tries 3;  # ingress-nginx's default; nginx's own is 0 (no limit)
location / { return 404; }
location /closing/ {
    proxy_pass http://closing3;
}
location /all503/ {
    proxy_pass http://all503;
    proxy_next_upstream error timeout http_503;
}
location /close503/ {
    proxy_pass http://close503;
    proxy_next_upstream error timeout http_503;
}
location /nonidem/ {
    proxy_pass http://close503;
    proxy_next_upstream error timeout http_503 non_idempotent;
}
location /tries2/ {
    proxy_pass http://all503;
    proxy_next_upstream http_503;
    proxy_next_upstream_tries 2;
}
location /tries0/ {
    proxy_pass http://five503;
    proxy_next_upstream http_503;
    proxy_next_upstream_tries 0;
}
"""

needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")


@pytest.fixture(scope="module")
def nginx_port(env, tmp_path_factory) -> int:
    """nginx with an upstream per Service (the same recorders, round robin, max_fails=0) and a
    location per Pier host, with ingress-nginx's 3 tries unless the location sets others."""
    upstreams = {"closing3": ["c3-a", "c3-b", "c3-c"], "all503": ["a5-a", "a5-b", "a5-c"],
                 "close503": ["c5-a", "c5-b", "c5-c"], "five503": [f"f5-{i}" for i in range(5)]}
    http = "".join(f"upstream {name} {{\n" + "".join(
        f"    server 127.0.0.1:{env.recorders[n].port} max_fails=0;\n" for n in names) + "}\n"
        for name, names in upstreams.items())
    _, port = start_nginx(env.stack.launcher, tmp_path_factory.mktemp("nginx"), NGINX_SERVER, http=http)
    return port


# (location, Pier host, method, body, headers)
COMPARED = [
    ("closing", CLOSING, "GET", b"", {}),
    ("closing", CLOSING, "POST", b"order=1", {}),
    ("all503", ALL503, "GET", b"", {}),
    ("close503", CLOSE503, "POST", b"", {"Content-Length": "0"}),
    ("nonidem", NONIDEM, "POST", b"", {"Content-Length": "0"}),
    ("tries2", TRIES2, "GET", b"", {}),
    ("tries0", TRIES0, "GET", b"", {}),
]


def outcome(env: Env, port: int, host: str, location: str, method: str, body: bytes, headers: dict) -> tuple:
    """(status, endpoints reached, each at most once, the response is the last endpoint's)."""
    target = env.target(location)
    response = env.send(host, target, method, body=body, headers=headers, port=port)
    reached = env.journal.reached(target)
    last = bool(reached) and response.status == 503 and is_answer_of(response, reached[-1], 503)
    return response.status, len(reached), len(set(reached)) == len(reached), last


@needs_nginx
@pytest.mark.parametrize("location, host, method, body, headers", COMPARED,
                         ids=[f"{c[0]}-{c[2]}{'-body' if c[3] else ''}" for c in COMPARED])
def test_the_same_outcome_as_nginx(env, nginx_port, location, host, method, body, headers):
    theirs = outcome(env, nginx_port, "localhost", location, method, body, headers)
    ours = outcome(env, env.port, host, location, method, body, headers)
    assert ours == theirs, f"Pier {ours}, nginx {theirs} (status, endpoints reached, each once, last one's answer)"


@needs_nginx
def test_a_put_with_a_body_is_where_pier_and_nginx_differ(env, nginx_port):
    # nginx keeps the request body and sends an idempotent request with one to the next peer;
    # Pier streams bodies and keeps no copy, so it does not (docs/load-balancing.md).
    assert outcome(env, nginx_port, "localhost", "closing", "PUT", b"x=1", {}) == (502, 3, True, False)
    assert outcome(env, env.port, CLOSING, "closing", "PUT", b"x=1", {}) == (502, 1, True, False)
