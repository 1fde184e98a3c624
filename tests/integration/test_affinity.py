"""Scenario 3: load balancing with sticky sessions across three real chat backends.

Real processes only: the controller in manifests mode, one or two dataplanes, three
pier-chat-backend processes. A client is "on" a backend when the backend's hello message (or its
X-Backend header) names it.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import Counter
from typing import Optional

import pytest
from websockets.sync.client import connect

import manifests as m
from harness import READY_TIMEOUT_S, REPO_ROOT, PierStack, binary, free_port, wait_until
from rawhttp import request

COOKIE = "PIER_AFFINITY"
HASHED_HOST = "hashed.test"
LEAST_CONN_HOST = "leastconn.test"
CLIENTS = 100
SOCKETS_PER_CLIENT = 3
TOKEN = re.compile(r"^[0-9a-f]{16}$")


# -- clients ----------------------------------------------------------------------------------

@contextlib.contextmanager
def chat_socket(port: int, cookie: Optional[str] = None, host: Optional[str] = None,
                source: Optional[str] = None):
    """A /ws/chat WebSocket through the dataplane on `port`; yields (backend, Set-Cookie of the 101)."""
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else None
    extra = {"source_address": (source, 0)} if source else {}
    uri = f"ws://{host}/ws/chat" if host else f"ws://127.0.0.1:{port}/ws/chat"
    with connect(uri, address=("127.0.0.1", port), additional_headers=headers, proxy=None,
                 open_timeout=5, close_timeout=2, **extra) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello", hello
        yield hello["backend"], ws.response.headers.get("Set-Cookie")


def backend_of_socket(port: int, **kwargs) -> tuple[str, Optional[str]]:
    with chat_socket(port, **kwargs) as result:
        return result


def get_headers(port: int, cookie: Optional[str] = None):
    """GET /headers: (backend, Set-Cookie) of a plain request."""
    response = request(port, "GET", "/headers", headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else None)
    assert response.status == 200, response.text
    return response.header("x-backend"), response.header("set-cookie")


def new_clients(port: int, count: int) -> list[tuple[str, str]]:
    """`count` cookie-less first requests: (affinity token, backend) of each."""
    clients = []
    for _ in range(count):
        home, set_cookie = get_headers(port)
        clients.append((cookie_value(set_cookie), home))
    return clients


def cookie_value(set_cookie: Optional[str]) -> str:
    """The affinity token of a Set-Cookie header (which must be ours)."""
    assert set_cookie, "expected a Set-Cookie"
    name, _, rest = set_cookie.partition("=")
    assert name == COOKIE, set_cookie
    value = rest.split(";")[0]
    assert TOKEN.match(value), set_cookie
    return value


def metric(admin_port: int, name: str, **labels) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in request(admin_port, "GET", "/metrics").text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def start_extra_dataplane(stack: PierStack, name: str, *flags: str) -> tuple[int, int]:
    """Another dataplane on the same controller: (http port, admin port), once ready."""
    http_port, admin_port = free_port(), free_port()
    process = stack.launcher.start(name, [
        binary("pier-dataplane"), "--controller", f"127.0.0.1:{stack.grpc_port}",
        "--http-listen", f"127.0.0.1:{http_port}", "--https-listen", "",
        "--admin-listen", f"127.0.0.1:{admin_port}", "--threads", "2", "--log-level", "debug", *flags])
    wait_until(lambda: request(admin_port, "GET", "/readyz").status == 200, READY_TIMEOUT_S,
               f"{name}'s /readyz to answer 200", alive=process.check_alive)
    return http_port, admin_port


def sticky_ingress(mode: str = "balanced", **extra: str) -> dict:
    return m.ingress("sticky", [("/ws/", "chat"), ("/headers", "chat")], annotations={
        "pier.dev/affinity": "cookie",
        "pier.dev/affinity-mode": mode,
        "pier.dev/session-cookie-path": "/",
        "pier.dev/websocket-idle-timeout": "3600s",
        **extra,
    })


def three_backends(stack: PierStack) -> dict[str, int]:
    """chat-1..3 behind Service `chat`; returns name -> port."""
    backends = [stack.start_backend(f"chat-{i}") for i in (1, 2, 3)]
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("chat.yaml", m.render(*m.service_with_backends("chat", [b.port for b in backends])))
    return {b.name: b.port for b in backends}


# -- one shared stack for the tests that change nothing ------------------------------------------

@pytest.fixture(scope="module")
def sticky(module_launcher, tmp_path_factory):
    """Three backends behind `chat`, two dataplanes on one controller, and three Ingresses:
    cookie affinity on every host, `upstream-hash-by: $remote_addr` on hashed.test, and
    `load-balance: least_conn` on leastconn.test. The second dataplane trusts 127.0.0.1 as a
    proxy (X-Forwarded-For from it names the client); the first trusts nobody."""
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("sticky"))
    three_backends(stack)
    stack.write_manifest("ingresses.yaml", m.render(
        sticky_ingress(),
        m.ingress("hashed", [("/ws/", "chat"), ("/headers", "chat")], host=HASHED_HOST,
                  annotations={"pier.dev/upstream-hash-by": "$remote_addr"}),
        m.ingress("leastconn", [("/ws/", "chat")], host=LEAST_CONN_HOST,
                  annotations={"pier.dev/load-balance": "least_conn"})))
    stack.start()
    stack.second_http_port, stack.second_admin_port = start_extra_dataplane(
        stack, "dataplane-2", "--trusted-proxies", "127.0.0.1/32")
    return stack


@pytest.mark.timeout(180)  # 500 connections on a loaded CI machine
def test_hundred_clients_land_on_their_cookies_backend(sticky):
    homes = Counter()
    for client in range(CLIENTS):
        # Half the clients start with a page request, half with a WebSocket: either response
        # (a 200 or the 101) carries the cookie.
        if client % 2:
            home, set_cookie = get_headers(sticky.http_port)
        else:
            home, set_cookie = backend_of_socket(sticky.http_port)
        token = cookie_value(set_cookie)
        assert "Path=/" in set_cookie and "HttpOnly" in set_cookie, set_cookie
        homes[home] += 1
        for _ in range(SOCKETS_PER_CLIENT):
            backend, again = backend_of_socket(sticky.http_port, cookie=token)
            assert backend == home, f"client {client}: cookie for {home} went to {backend}"
            assert again is None, "a valid cookie is not set again"
        assert get_headers(sticky.http_port, cookie=token) == (home, None)
    # New clients are balanced over every backend.
    assert set(homes) == {"chat-1", "chat-2", "chat-3"}, homes
    assert min(homes.values()) >= CLIENTS // 5, homes


def test_many_sockets_of_one_client_at_once_share_a_backend(sticky):
    home, set_cookie = get_headers(sticky.http_port)
    token = cookie_value(set_cookie)
    with contextlib.ExitStack() as open_sockets:
        backends = [open_sockets.enter_context(chat_socket(sticky.http_port, cookie=token))[0] for _ in range(10)]
    assert set(backends) == {home}


def test_two_dataplanes_route_a_cookie_to_the_same_backend(sticky):
    for client in range(30):
        first, second = ((sticky.http_port, sticky.second_http_port) if client % 2
                         else (sticky.second_http_port, sticky.http_port))
        home, set_cookie = get_headers(first)
        token = cookie_value(set_cookie)
        backend, again = backend_of_socket(second, cookie=token)
        assert (backend, again) == (home, None), f"client {client}: {home} on one dataplane, {backend} on the other"


def test_an_unknown_cookie_is_replaced(sticky):
    backend, set_cookie = backend_of_socket(sticky.http_port, cookie="0123456789abcdef")
    token = cookie_value(set_cookie)
    assert backend_of_socket(sticky.http_port, cookie=token) == (backend, None)


def test_remote_addr_hash_keeps_each_client_on_one_backend(sticky):
    sources = [f"127.0.0.{i}" for i in range(1, 9)]
    placed = {}
    for source in sources:
        seen = set()
        for port in (sticky.http_port, sticky.second_http_port):  # both replicas agree
            for _ in range(3):
                backend, set_cookie = backend_of_socket(port, host=HASHED_HOST, source=source)
                assert set_cookie is None, "hashing sets no cookie"
                seen.add(backend)
        assert len(seen) == 1, f"{source} was spread over {seen}"
        placed[source] = seen.pop()
    # The client address, not the connection, decides: different clients spread out.
    assert len(set(placed.values())) >= 2, placed
    # $remote_addr is the client address after the trusted-proxies rule: X-Forwarded-For from
    # an untrusted peer changes nothing, from a trusted one it names the client.
    for source, forwarded_for in (("127.0.0.1", "127.0.0.5"), ("127.0.0.1", "127.0.0.6")):
        untrusted = request(sticky.http_port, "GET", "/headers",
                            headers={"Host": HASHED_HOST, "X-Forwarded-For": forwarded_for})
        assert untrusted.header("x-backend") == placed[source]
        trusted = request(sticky.second_http_port, "GET", "/headers",
                          headers={"Host": HASHED_HOST, "X-Forwarded-For": forwarded_for})
        assert trusted.header("x-backend") == placed[forwarded_for]


def test_least_conn_spreads_open_websockets(sticky):
    # Tunnels of earlier tests count on the same backends until the dataplane has closed them.
    wait_until(lambda: metric(sticky.admin_port, "pier_websocket_connections_active") == 0, 10,
               "earlier tunnels to close")
    with contextlib.ExitStack() as open_sockets:
        backends = Counter(open_sockets.enter_context(chat_socket(sticky.http_port, host=LEAST_CONN_HOST))[0]
                           for _ in range(9))
    assert backends == {"chat-1": 3, "chat-2": 3, "chat-3": 3}, backends


# -- churn: tests that kill backends get their own stack ----------------------------------------

def test_a_canary_split_keeps_each_pinned_client_on_its_side(stack):
    """canary-weight 50 with cookie affinity on both Ingresses (one cookie name): the first
    response pins a client to an endpoint of the main Service or of the canary's, and from then
    on its requests and WebSockets stay there instead of being drawn again (a socket.io client
    whose polling and upgrade must reach one backend). The weight still splits new clients."""
    backends = {b.name: b.port for b in (stack.start_backend(f"chat-{i}") for i in (1, 2, 3))}
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("chat.yaml", m.render(
        *m.service_with_backends("chat", [backends["chat-1"], backends["chat-2"]]),
        *m.service_with_backends("chat-v2", [backends["chat-3"]])))
    canary = m.ingress("sticky-canary", [("/ws/", "chat-v2"), ("/headers", "chat-v2")], annotations={
        "pier.dev/canary": "true", "pier.dev/canary-weight": "50", "pier.dev/affinity": "cookie",
        "pier.dev/session-cookie-path": "/"}, creation_timestamp="2024-02-01T00:00:00Z")
    stack.write_manifest("ingresses.yaml", m.render(sticky_ingress(), canary))
    stack.start()

    clients = new_clients(stack.http_port, 40)
    sides = Counter("canary" if home == "chat-3" else "main" for _, home in clients)
    assert sides["canary"] >= 5 and sides["main"] >= 5, sides  # binomial(40, 0.5): 5 is 4.4 sigma out
    for token, home in clients:
        for _ in range(4):
            assert get_headers(stack.http_port, cookie=token) == (home, None)
        assert backend_of_socket(stack.http_port, cookie=token) == (home, None)


def test_a_legacy_canary_split_draws_for_pinned_clients_too(stack):
    """affinity-canary-behavior: legacy (ingress-nginx's key) on the canary: the weight is drawn
    for every request, so a client pinned to the main Service still reaches the canary about half
    the time, and within the main side its cookie still picks its endpoint."""
    backends = {b.name: b.port for b in (stack.start_backend(f"chat-{i}") for i in (1, 2, 3))}
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("chat.yaml", m.render(
        *m.service_with_backends("chat", [backends["chat-1"], backends["chat-2"]]),
        *m.service_with_backends("chat-v2", [backends["chat-3"]])))
    canary = m.ingress("legacy-canary", [("/ws/", "chat-v2"), ("/headers", "chat-v2")], annotations={
        "pier.dev/canary": "true", "pier.dev/canary-weight": "50", "pier.dev/affinity": "cookie",
        "pier.dev/session-cookie-path": "/", "nginx.ingress.kubernetes.io/affinity-canary-behavior": "legacy"},
        creation_timestamp="2024-02-01T00:00:00Z")
    stack.write_manifest("ingresses.yaml", m.render(sticky_ingress(), canary))
    stack.start()

    token, home = next((token, home) for token, home in new_clients(stack.http_port, 40) if home != "chat-3")
    seen = Counter(get_headers(stack.http_port, cookie=token)[0] for _ in range(40))
    # binomial(40, 0.5) on each side: 5 is 4.4 sigma out.
    assert seen["chat-3"] >= 5 and seen[home] >= 5, seen
    assert set(seen) == {home, "chat-3"}, seen


def test_killing_a_backend_moves_only_its_clients(stack):
    three_backends(stack)
    stack.write_manifest("ingresses.yaml", m.render(sticky_ingress()))
    stack.start()
    clients = new_clients(stack.http_port, 30)
    victim = "chat-2"
    assert victim in {home for _, home in clients}

    # A tunnel to a surviving backend must not notice any of this.
    survivor_token = next(token for token, home in clients if home != victim)
    with chat_socket(stack.http_port, cookie=survivor_token) as (survivor_home, _), \
            connect(f"ws://127.0.0.1:{stack.http_port}/ws/echo", proxy=None, open_timeout=5,
                    additional_headers={"Cookie": f"{COOKIE}={survivor_token}"}) as echo:
        stack.backends[victim].process.kill()
        started = time.monotonic()

        for token, home in clients:
            backend, set_cookie = backend_of_socket(stack.http_port, cookie=token)
            if home == victim:
                assert backend != victim
                new_token = cookie_value(set_cookie)  # balanced mode: a new cookie for the new home
                assert backend_of_socket(stack.http_port, cookie=new_token) == (backend, None)
            else:
                assert (backend, set_cookie) == (home, None), f"a {home} client moved"
        # New clients are never placed on the dead backend, and none of them sees an error.
        for _ in range(30):
            backend, set_cookie = get_headers(stack.http_port)
            assert backend != victim
            cookie_value(set_cookie)
        elapsed = time.monotonic() - started

        echo.send("still here")
        assert echo.recv(timeout=5) == "still here"

    # Every request above succeeded: failed connects were retried on another endpoint. After
    # the first failure the endpoint is ejected (1 s, then 2 s, 4 s...), and only the request
    # after each ejection ends tries it again.
    refused = metric(stack.admin_port, "pier_upstream_errors_total", reason="connect_refused")
    ejections = metric(stack.admin_port, "pier_upstream_ejections_total", service="chat")
    assert ejections >= 1
    expiries = 1 + sum(1 for period in (1, 3, 7, 15, 31) if elapsed > period)
    assert 1 <= refused <= expiries, f"{refused} refused connects in {elapsed:.1f}s"
    # Each refused connect sent its request to another endpoint, and each is counted as such.
    assert metric(stack.admin_port, "pier_upstream_retries_total", service="chat", reason="next_endpoint") == refused


@pytest.mark.parametrize("ingress", [
    sticky_ingress("persistent"),
    # ingress-nginx's key for the same: the cookie is not changed on failure, whatever the mode.
    sticky_ingress("balanced", **{"nginx.ingress.kubernetes.io/session-cookie-change-on-failure": "false"}),
], ids=["affinity-mode-persistent", "session-cookie-change-on-failure-false"])
def test_persistent_clients_keep_their_cookie_while_their_backend_is_down(stack, ingress):
    ports = three_backends(stack)
    stack.write_manifest("ingresses.yaml", m.render(ingress))
    stack.start()
    victim_token = None
    while victim_token is None:
        home, set_cookie = get_headers(stack.http_port)
        if home == "chat-1":
            victim_token = cookie_value(set_cookie)
    stack.backends["chat-1"].process.kill()
    backend, set_cookie = backend_of_socket(stack.http_port, cookie=victim_token)
    assert backend != "chat-1" and set_cookie is None, "persistent: served elsewhere, cookie kept"

    # chat-1 comes back on the same address: once its ejection ends the cookie leads home.
    restarted = stack.launcher.start("chat-1", [
        binary("pier-chat-backend"), "--listen", f"127.0.0.1:{ports['chat-1']}", "--name", "chat-1"])
    wait_until(lambda: request(ports["chat-1"], "GET", "/healthz").status == 200, READY_TIMEOUT_S,
               "chat-1 to restart", alive=restarted.check_alive)
    wait_until(lambda: backend_of_socket(stack.http_port, cookie=victim_token) == ("chat-1", None), 10,
               "the persistent cookie to lead back to chat-1")


def test_endpoints_removed_from_the_service_move_only_their_clients(stack):
    ports = three_backends(stack)
    stack.write_manifest("ingresses.yaml", m.render(sticky_ingress()))
    stack.start()
    clients = new_clients(stack.http_port, 30)

    # Scale-in: chat-3 leaves the Service (the process keeps running, as a terminating pod would).
    stack.write_manifest("chat.yaml", m.render(
        *m.service_with_backends("chat", [ports["chat-1"], ports["chat-2"]])))
    wait_until(lambda: all(get_headers(stack.http_port, cookie=t)[0] != "chat-3"
                           for t, home in clients if home == "chat-3"), 10,
               "chat-3's clients to be moved")
    for token, home in clients:
        backend, set_cookie = get_headers(stack.http_port, cookie=token)
        if home == "chat-3":
            assert backend in {"chat-1", "chat-2"}
            assert cookie_value(set_cookie)
        else:
            assert (backend, set_cookie) == (home, None)

    # Scale-out: chat-3 is back; nobody who has a live backend moves to it.
    stack.write_manifest("chat.yaml", m.render(*m.service_with_backends("chat", list(ports.values()))))
    wait_until(lambda: "chat-3" in {get_headers(stack.http_port)[0] for _ in range(6)}, 10,
               "chat-3 to receive new clients")
    for token, home in clients:
        if home != "chat-3":
            assert get_headers(stack.http_port, cookie=token) == (home, None)


# -- the demo ---------------------------------------------------------------------------------

def test_demo_ingress_keeps_a_browser_on_one_backend_across_reloads(stack):
    ports = [stack.start_backend(f"chat-{i}").port for i in (1, 2, 3)]
    demo = REPO_ROOT / "examples" / "chat" / "manifests"
    for source in demo.glob("*.yaml"):
        stack.write_manifest(source.name, source.read_text())
    template = (demo / "endpointslices.yaml.in").read_text()
    for index, port in enumerate(ports, start=1):
        template = template.replace(f"@PORT{index}@", str(port))
    stack.write_manifest("endpointslices.yaml", template)
    stack.start()

    page = request(stack.http_port, "GET", "/")
    assert page.status == 200 and b"affinity cookie" in page.body
    token = cookie_value(page.header("set-cookie"))
    assert "Path=/;" in page.header("set-cookie")
    home = page.header("x-backend")
    for _ in range(3):  # the page's WebSocket, then reloads
        assert backend_of_socket(stack.http_port, cookie=token) == (home, None)
        reload = request(stack.http_port, "GET", "/", headers={"Cookie": f"{COOKIE}={token}"})
        assert (reload.header("x-backend"), reload.header("set-cookie")) == (home, None)
