"""Real HTTP and WebSocket traffic through Pier in cluster mode.

kubectl writes IngressClass, Services, EndpointSlices and Ingresses into a real kube-apiserver;
pier-controller (out of cluster, a ServiceAccount token with the chart's RBAC, never admin)
watches them and pushes snapshots to a pier-dataplane on 127.0.0.1, which proxies to
pier-chat-backend processes in a network namespace (netns.py: the API refuses loopback endpoint
addresses). The tests run in file order and share one stack; each leaves the routes the next one
expects.

One WebSocket, opened before the first change, echoes after every step: Ingress changes,
deletions, endpoint scaling, an apiserver restart and a forced relist never touch a tunnel whose
backend still exists.

The controller reaches the apiserver through a relay (kuberelay.py) so a test can take its watch
down while kubectl still works: that is how a change lands "while it is down".
"""

from __future__ import annotations

import base64
import json
import subprocess
import time

import pytest

from kuberelay import Relay
from kubetraffic import (  # noqa: F401 - fixtures are used by name
    ROUTE_TIMEOUT_S, ClusterPierStack, NetnsBackends, apply, apply_rendered_rbac,
    backend_network, backend_of, backends_seen, e2e_launcher, echo, endpoint_slice, ingress,
    ingress_class, kube_cluster, namespace, open_websocket, service, service_account_kubeconfig,
    tls_secret, wait_for_backend, wait_for_status)
from harness import wait_until  # noqa: E402 - on the path kubetraffic sets

pytestmark = pytest.mark.timeout(180)

NS = "shop"
CONTROLLER_NS = "pier-e2e"
REROUTE_BUDGET_S = 1.0
# After the relay comes back the controller's watch retries on its backoff (0.8 s doubling,
# up to 30 s): generous, the point is that the change arrives at all.
RECONNECT_TIMEOUT_S = 60.0
SCALE_REQUESTS = 12


@pytest.fixture(scope="module")
def relay(kube_cluster):
    started = Relay(int(kube_cluster.server_url.rsplit(":", 1)[1]))
    yield started
    started.close()


@pytest.fixture(scope="module")
def backends(e2e_launcher, backend_network) -> NetnsBackends:
    started = NetnsBackends(e2e_launcher, backend_network)
    for name in ("blue", "green", "live", "pool-a", "pool-b"):
        started.start(name)
    return started


@pytest.fixture(scope="module")
def stack(kube_cluster, relay, backends, e2e_launcher, tmp_path_factory) -> ClusterPierStack:
    cluster = kube_cluster
    apply(cluster, namespace(CONTROLLER_NS), namespace(NS))
    apply_rendered_rbac(cluster, CONTROLLER_NS)
    kubeconfig = service_account_kubeconfig(cluster, "pier-controller", CONTROLLER_NS,
                                            server_url=f"https://127.0.0.1:{relay.port}")
    objects = [ingress_class()]
    for name in ("blue", "green", "live"):
        objects += [service(name, NS), endpoint_slice(name, NS, name, backends.addresses(name))]
    objects += [service("pool", NS), endpoint_slice("pool", NS, "pool", backends.addresses("pool-a")),
                ingress("app", NS, "app.example", [("/", "blue")]),
                ingress("live", NS, "live.example", [("/", "live")]),
                ingress("pool", NS, "pool.example", [("/", "pool")])]
    apply(cluster, *objects)
    started = ClusterPierStack(e2e_launcher, tmp_path_factory.mktemp("stack"), kubeconfig)
    started.start()
    return started


@pytest.fixture(scope="module")
def live_socket(stack):
    """Opened once, before any change; every test checks it still echoes."""
    wait_for_backend(stack, "live.example", "/", "live")
    ws = open_websocket(stack, "live.example")
    echo(ws, "opened")
    yield ws
    ws.close()


def test_http_and_websocket_are_routed(stack, live_socket):
    wait_for_backend(stack, "app.example", "/", "blue")
    seen = json.loads(stack.get("/headers", headers={"Host": "app.example"}).body)
    assert seen["headers"]["host"] == "app.example"
    assert seen["headers"]["x-forwarded-for"]  # proxied, not answered by something else
    with open_websocket(stack, "app.example", "/ws/chat") as chat:
        hello = json.loads(chat.recv(timeout=5))
        assert (hello["type"], hello["backend"]) == ("hello", "blue")
    with open_websocket(stack, "app.example") as ws:
        echo(ws, "through the cluster")
        ws.send(b"\x00\x01\xff")
        assert ws.recv(timeout=5) == b"\x00\x01\xff"
    assert stack.get("/", headers={"Host": "unknown.example"}).status == 404
    echo(live_socket, "after the first requests")


def test_tls_secret_reaches_the_snapshot(kube_cluster, stack, tmp_path, live_socket):
    secret, certificate = tls_secret("secure-tls", NS, "secure.example", tmp_path)
    secure = ingress("secure", NS, "secure.example", [("/", "blue")])
    secure["spec"]["tls"] = [{"hosts": ["secure.example"], "secretName": "secure-tls"}]
    # Plain HTTP keeps being served on this host, whatever the dataplane does with TLS.
    secure["metadata"]["annotations"] = {"pier.dev/ssl-redirect": "false"}
    apply(kube_cluster, secret, secure)
    wait_for_backend(stack, "secure.example", "/", "blue")
    certificates = {c["name"]: c for c in stack.snapshot().get("certificates", [])}
    assert f"{NS}/secure-tls" in certificates, certificates.keys()
    offered = certificates[f"{NS}/secure-tls"]
    assert offered["sni_names"] == ["secure.example"]
    assert offered["certificate_chain_pem"].strip() == certificate.strip()
    echo(live_socket, "after the TLS Ingress")


def htpasswd_secret(name: str, ns: str, user: str, password: str) -> dict:
    """An Opaque Secret whose `auth` key is an htpasswd line ($apr1$, htpasswd's default)."""
    hashed = subprocess.run(["openssl", "passwd", "-apr1", password], check=True, capture_output=True, text=True,
                            timeout=10).stdout.strip()
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns},
            "type": "Opaque", "stringData": {"auth": f"{user}:{hashed}\n"}}


def test_basic_auth_secret_is_watched(kube_cluster, stack, live_socket):
    """The controller's Secret watch keeps htpasswd Secrets (key auth) beside TLS ones, with the
    chart's RBAC: an Ingress with auth-type basic asks for them, and a changed password applies."""
    def status(password: str | None) -> int:
        headers = {"Host": "private.example"}
        if password is not None:
            token = base64.b64encode(f"alice:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return stack.get("/headers", headers=headers).status

    private = ingress("private", NS, "private.example", [("/", "blue")])
    private["metadata"]["annotations"] = {"nginx.ingress.kubernetes.io/auth-type": "basic",
                                          "nginx.ingress.kubernetes.io/auth-secret": "users",
                                          "nginx.ingress.kubernetes.io/auth-realm": "shop staff"}
    apply(kube_cluster, htpasswd_secret("users", NS, "alice", "first"), private)
    wait_for_status(stack, "private.example", "/headers", 401)
    assert status("first") == 200
    assert status("second") == 401
    apply(kube_cluster, htpasswd_secret("users", NS, "alice", "second"))
    wait_until(lambda: status("second") == 200, ROUTE_TIMEOUT_S, "the changed password to apply",
               alive=stack.check_alive)
    assert status("first") == 401
    assert status(None) == 401
    echo(live_socket, "after the basic-auth Ingress")


def test_changing_an_ingress_reroutes_within_a_second(kube_cluster, stack, live_socket):
    wait_for_backend(stack, "app.example", "/", "blue")

    apply(kube_cluster, ingress("app", NS, "app.example", [("/", "green")]))
    took = wait_for_backend(stack, "app.example", "/", "green")
    print(f"backend change: {took * 1000:.0f} ms from kubectl returning")
    assert took < REROUTE_BUDGET_S, f"backend change took {took:.3f} s"
    echo(live_socket, "after the backend change")

    # A new path on the same Ingress: the longer prefix wins for it, the rest stays.
    apply(kube_cluster, ingress("app", NS, "app.example", [("/", "green"), ("/headers", "blue")]))
    took = wait_for_backend(stack, "app.example", "/headers", "blue")
    print(f"path change: {took * 1000:.0f} ms from kubectl returning")
    assert took < REROUTE_BUDGET_S, f"path change took {took:.3f} s"
    assert backend_of(stack, "app.example", "/") == "green"
    echo(live_socket, "after the path change")


def test_deleting_an_ingress_returns_404(kube_cluster, stack, live_socket):
    wait_for_backend(stack, "app.example", "/", "green")
    kube_cluster.kubectl("delete", "ingress", "app", "-n", NS)
    took = wait_for_status(stack, "app.example", "/", 404)
    print(f"deletion: {took * 1000:.0f} ms from kubectl returning")
    assert took < REROUTE_BUDGET_S, f"deletion took {took:.3f} s"
    assert stack.get("/headers", headers={"Host": "app.example"}).status == 404
    echo(live_socket, "after the deletion")


def test_endpoint_slice_changes_are_followed(kube_cluster, stack, backends, live_socket):
    wait_for_backend(stack, "pool.example", "/", "pool-a")
    assert backends_seen(stack, "pool.example", "/", SCALE_REQUESTS) == {"pool-a"}

    # Out: both backends take requests (round robin).
    apply(kube_cluster, endpoint_slice("pool", NS, "pool", backends.addresses("pool-a", "pool-b")))
    wait_for_backend(stack, "pool.example", "/", "pool-b")
    assert backends_seen(stack, "pool.example", "/", SCALE_REQUESTS) == {"pool-a", "pool-b"}

    # In: only the remaining one.
    apply(kube_cluster, endpoint_slice("pool", NS, "pool", backends.addresses("pool-b")))
    wait_for_backend_alone(stack, "pool.example", "/", "pool-b")

    # None left: 503, and back.
    apply(kube_cluster, endpoint_slice("pool", NS, "pool", []))
    wait_for_status(stack, "pool.example", "/", 503)
    apply(kube_cluster, endpoint_slice("pool", NS, "pool", backends.addresses("pool-a")))
    wait_for_backend_alone(stack, "pool.example", "/", "pool-a")
    echo(live_socket, "after scaling")


def wait_for_backend_alone(stack, host: str, path: str, name: str) -> None:
    """Until a whole round of requests is answered by `name` only."""
    deadline = time.monotonic() + ROUTE_TIMEOUT_S
    while backends_seen(stack, host, path, SCALE_REQUESTS) != {name}:
        assert time.monotonic() < deadline, f"{host}{path} not answered by {name} alone"
        time.sleep(0.05)


def test_change_made_while_the_apiserver_restarts_is_applied(kube_cluster, relay, stack,
                                                             live_socket):
    relay.cut()  # the controller's watches die and its reconnects are refused
    kube_cluster.restart_apiserver()
    apply(kube_cluster, ingress("late", NS, "late.example", [("/", "green")]))
    time.sleep(1.0)
    # Down: the change is not there yet, and the last snapshot keeps serving.
    assert stack.get("/", headers={"Host": "late.example"}).status == 404
    assert backend_of(stack, "pool.example", "/") == "pool-a"
    echo(live_socket, "while the watch is down")

    relay.restore()
    wait_for_backend(stack, "late.example", "/", "green", timeout=RECONNECT_TIMEOUT_S)
    echo(live_socket, "after the apiserver restart")


def test_deletion_while_the_watch_is_down_is_noticed_after_relist(kube_cluster, relay, stack,
                                                                  backends, live_socket):
    wait_for_backend(stack, "late.example", "/", "green")
    gone_before = stack.controller_metric("pier_controller_watch_restarts_total",
                                          kind="Ingress", reason="gone")

    relay.cut()
    kube_cluster.kubectl("delete", "ingress", "late", "-n", NS)
    apply(kube_cluster, ingress("pool", NS, "pool.example", [("/", "pool"), ("/headers", "blue")]))
    # Compacted history plus a fresh watch cache: resuming from the controller's last
    # resourceVersion is answered 410 Gone, and only a relist can show the deletion.
    kube_cluster.compact_etcd()
    kube_cluster.restart_apiserver()
    relay.restore()

    wait_for_status(stack, "late.example", "/", 404, timeout=RECONNECT_TIMEOUT_S)
    wait_for_backend(stack, "pool.example", "/headers", "blue")
    assert backend_of(stack, "pool.example", "/") == "pool-a"
    gone_after = stack.controller_metric("pier_controller_watch_restarts_total",
                                         kind="Ingress", reason="gone")
    assert gone_after > gone_before, "the Ingress informer never saw 410 Gone"
    echo(live_socket, "after the relist")


def test_a_restarted_controller_lists_again_and_tunnels_stay(kube_cluster, stack, live_socket):
    stack.controller.kill()  # a crash: no goodbye to the dataplane or the apiserver
    apply(kube_cluster, ingress("after-crash", NS, "after-crash.example", [("/", "blue")]))
    # The dataplane keeps its last snapshot while no controller is there.
    assert backend_of(stack, "pool.example", "/") == "pool-a"
    echo(live_socket, "with no controller")

    stack.start_controller()
    wait_for_backend(stack, "after-crash.example", "/", "blue", timeout=RECONNECT_TIMEOUT_S)
    assert backend_of(stack, "pool.example", "/") == "pool-a"
    echo(live_socket, "after the controller restart")


def test_the_first_websocket_lived_through_everything(stack, backends, live_socket):
    echo(live_socket, "still here")
    # The dataplane never restarted, and the restarted controller is still up.
    stack.check_alive()
    for backend in backends.backends.values():
        backend.process.check_alive()
