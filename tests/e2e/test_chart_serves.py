"""`helm install` the chart, then serve an Ingress with the ServiceAccount the chart created.

No kubelet runs, so the chart's pods never start: the controller and a dataplane run out of
cluster instead, the controller with a token of the chart's own `pier-controller`
ServiceAccount (the RBAC the chart granted, nothing more). An Ingress of the chart's
IngressClass then carries HTTP and a WebSocket echo to a backend in a network namespace.
"""

from __future__ import annotations

import json

import pytest

from kubetraffic import (  # noqa: F401 - fixtures are used by name
    REPO_ROOT, ClusterPierStack, NetnsBackends, apply, backend_network, e2e_launcher, echo,
    endpoint_slice, ingress, kube_cluster, namespace, open_websocket, service,
    service_account_kubeconfig, wait_for_backend)

pytestmark = pytest.mark.timeout(180)

CHART = REPO_ROOT / "charts" / "pier"
RELEASE_NS = "pier-system"
APP_NS = "web"


def test_installed_chart_serves_an_ingress(kube_cluster, backend_network, e2e_launcher,
                                           tmp_path):
    cluster = kube_cluster
    cluster.helm("install", "pier", str(CHART), "--namespace", RELEASE_NS, "--create-namespace")
    account = json.loads(cluster.kubectl("get", "serviceaccount", "pier-controller",
                                         "-n", RELEASE_NS, "-o", "json"))
    assert account["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    ingress_class = json.loads(cluster.kubectl("get", "ingressclass", "pier", "-o", "json"))
    assert ingress_class["spec"]["controller"] == "pier.dev/ingress-controller"

    kubeconfig = service_account_kubeconfig(cluster, "pier-controller", RELEASE_NS)
    # The token really is the chart's least-privilege account, not an admin.
    denied = cluster.run_kubectl("get", "pods", "-A", kubeconfig=kubeconfig)
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower(), denied

    backends = NetnsBackends(e2e_launcher, backend_network)
    backends.start("web-1")
    apply(cluster, namespace(APP_NS), service("web", APP_NS),
          endpoint_slice("web", APP_NS, "web", backends.addresses("web-1")),
          ingress("web", APP_NS, "web.example", [("/", "web")]))

    stack = ClusterPierStack(e2e_launcher, tmp_path, kubeconfig).start()
    wait_for_backend(stack, "web.example", "/", "web-1")
    assert stack.get("/", headers={"Host": "other.example"}).status == 404
    with open_websocket(stack, "web.example") as ws:
        echo(ws, "installed with helm")
    with open_websocket(stack, "web.example", "/ws/chat") as chat:
        hello = json.loads(chat.recv(timeout=5))
        assert (hello["type"], hello["backend"]) == ("hello", "web-1")
