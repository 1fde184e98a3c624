"""The chart against a real kube-apiserver (tests/e2e/kubeharness.py): install, upgrade and
uninstall succeed, every object passes server-side validation, the RBAC grants what the
controller needs and nothing else, and Prometheus Operator objects appear only where the
operator's CRDs are served. No kubelet runs, so pods never start; the API objects are the point.

Namespaces are never deleted here: without kube-controller-manager a deleted namespace stays
Terminating forever, so each test uses its own.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from chartlib import CHART, REPO_ROOT
from kubeharness import KubeCluster, KubeToolsUnavailable, kube_tools_bin_dir

pytestmark = pytest.mark.timeout(300)

NAMESPACED_KINDS = ("deployments,daemonsets,services,serviceaccounts,secrets,configmaps,roles,"
                    "rolebindings,poddisruptionbudgets,horizontalpodautoscalers")
CLUSTER_KINDS = "clusterroles,clusterrolebindings,ingressclasses"

# Stand-ins for the Prometheus Operator and cert-manager CRDs: enough for the API to serve the
# kinds, without their schemas (the chart tests render-time shape elsewhere).
CRDS = [("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
        ("monitoring.coreos.com", "PodMonitor", "podmonitors"),
        ("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
        ("cert-manager.io", "Certificate", "certificates"),
        ("cert-manager.io", "Issuer", "issuers")]


@pytest.fixture(scope="module")
def cluster():
    try:
        bin_dir = kube_tools_bin_dir()
    except KubeToolsUnavailable as error:
        pytest.skip(f"no Kubernetes binaries: {error}")
    with KubeCluster(bin_dir) as running:
        yield running


def get_json(cluster, *args) -> dict:
    return json.loads(cluster.kubectl("get", "-o", "json", *args))


def names(cluster, kinds: str, *args) -> list[str]:
    items = get_json(cluster, kinds, *args)["items"]
    return sorted(f"{i['kind']}/{i['metadata']['name']}" for i in items)


def release_objects(cluster, release: str) -> list[str]:
    selector = f"app.kubernetes.io/instance={release}"
    return names(cluster, NAMESPACED_KINDS, "-A", "-l", selector) + \
        names(cluster, CLUSTER_KINDS, "-l", selector)


def can_i(cluster, account: str, *args: str) -> bool:
    result = cluster.run_kubectl("auth", "can-i", f"--as={account}", *args)
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    return result.stdout.strip() == "yes"


def secret_data(cluster, namespace: str, name: str) -> dict:
    return get_json(cluster, "secret", name, "-n", namespace)["data"]


def container_args(cluster, kind: str, namespace: str, name: str) -> list[str]:
    workload = get_json(cluster, kind, name, "-n", namespace)
    return workload["spec"]["template"]["spec"]["containers"][0]["args"]


def test_install_upgrade_uninstall(cluster):
    ns = "pier-system"
    # Monitoring objects are asked for but this cluster has no operator CRDs: skipped, not failed.
    notes = cluster.helm("install", "pier", str(CHART), "--namespace", ns, "--create-namespace",
                         "-f", str(CHART / "ci" / "metrics-values.yaml"))
    # NOTES.txt: how to reach the dataplanes, a WebSocket Ingress, and what was skipped.
    assert "kubectl -n pier-system get service pier-dataplane -w" in notes
    assert "ingressClassName: pier" in notes and "pier.dev/websocket-idle-timeout" in notes
    assert "does not serve\n   monitoring.coreos.com/v1" in notes
    objects = release_objects(cluster, "pier")
    for expected in ("Deployment/pier-controller", "Deployment/pier-dataplane",
                     "Service/pier-controller", "Service/pier-dataplane",
                     "Secret/pier-grpc-controller", "Secret/pier-grpc-dataplane",
                     "ServiceAccount/pier-controller", "ServiceAccount/pier-dataplane",
                     "PodDisruptionBudget/pier-dataplane", "ConfigMap/pier-dashboard",
                     "Role/pier-controller-leader-election", "ClusterRole/pier-controller",
                     "ClusterRoleBinding/pier-controller", "IngressClass/pier"):
        assert expected in objects
    assert "Service/pier-dataplane-metrics" not in objects
    service = get_json(cluster, "service", "pier-dataplane", "-n", ns)
    assert service["spec"]["type"] == "LoadBalancer"
    assert all(p["nodePort"] for p in service["spec"]["ports"])  # allocated by the API server
    ca_before = secret_data(cluster, ns, "pier-grpc-controller")["ca.crt"]

    controller = f"system:serviceaccount:{ns}:pier-controller"
    for allowed in (["list", "secrets", "-A"], ["watch", "endpointslices.discovery.k8s.io", "-A"],
                    ["get", "ingressclasses.networking.k8s.io"],
                    ["update", "ingresses.networking.k8s.io", "--subresource=status", "-n", "app"],
                    ["create", "events.events.k8s.io", "-n", "app"],
                    ["update", "leases.coordination.k8s.io", "-n", ns]):
        assert can_i(cluster, controller, *allowed), allowed
    for denied in (["create", "secrets", "-n", "app"], ["update", "ingresses.networking.k8s.io", "-n", "app"],
                   ["delete", "leases.coordination.k8s.io", "-n", ns],
                   ["create", "leases.coordination.k8s.io", "-n", "kube-system"],
                   ["list", "pods", "-A"], ["list", "configmaps", "-A"]):
        assert not can_i(cluster, controller, *denied), denied
    dataplane = f"system:serviceaccount:{ns}:pier-dataplane"
    assert not can_i(cluster, dataplane, "get", "services", "-n", ns)
    assert not can_i(cluster, dataplane, "get", "secrets", "-n", ns)

    notes = cluster.helm("upgrade", "pier", str(CHART), "--namespace", ns,
                         "-f", str(CHART / "ci" / "daemonset-values.yaml"),
                         "-f", str(CHART / "ci" / "replicas2-values.yaml"))
    assert "rollout status daemonset/pier-dataplane" in notes
    assert "export NODE_PORT=" in notes
    assert "is the cluster default" in notes
    objects = release_objects(cluster, "pier")
    assert "DaemonSet/pier-dataplane" in objects
    assert "Deployment/pier-dataplane" not in objects
    assert "ConfigMap/pier-dashboard" not in objects
    assert "PodDisruptionBudget/pier-controller" in objects
    assert "--leader-elect" in container_args(cluster, "deployment", ns, "pier-controller")
    service = get_json(cluster, "service", "pier-dataplane", "-n", ns)
    assert (service["spec"]["type"], service["spec"]["externalTrafficPolicy"]) == ("NodePort", "Local")
    # The generated CA survives the upgrade, so running pods keep trusting each other.
    assert secret_data(cluster, ns, "pier-grpc-controller")["ca.crt"] == ca_before
    assert secret_data(cluster, ns, "pier-grpc-dataplane")["ca.crt"] == ca_before

    cluster.helm("uninstall", "pier", "--namespace", ns)
    assert release_objects(cluster, "pier") == []
    assert names(cluster, "secrets", "-n", ns) == []  # helm's own release records too


def install_crds(cluster) -> list[str]:
    names_ = []
    for group, kind, plural in CRDS:
        name = f"{plural}.{group}"
        names_.append(name)
        cluster.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(),
                               "listKind": f"{kind}List"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {
                                       "type": "object",
                                       "x-kubernetes-preserve-unknown-fields": True}}}]}}))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    *[f"crd/{n}" for n in names_])
    return names_


def test_operator_objects_with_their_crds(cluster):
    crds = install_crds(cluster)
    try:
        ns = "edge"
        cluster.helm("install", "edge", str(CHART), "--namespace", ns, "--create-namespace",
                     "--set", "ingressClass.name=edge", "--set", "metrics.podMonitor.enabled=true",
                     "-f", str(CHART / "ci" / "metrics-values.yaml"),
                     "-f", str(CHART / "ci" / "certmanager-values.yaml"))
        monitoring = names(cluster, "servicemonitors,podmonitors,prometheusrules", "-n", ns)
        assert monitoring == ["PodMonitor/edge-pier-controller", "PodMonitor/edge-pier-dataplane",
                              "PrometheusRule/edge-pier", "ServiceMonitor/edge-pier-controller",
                              "ServiceMonitor/edge-pier-dataplane"]
        assert names(cluster, "certificates,issuers", "-n", ns) == [
            "Certificate/edge-pier-grpc-ca", "Certificate/edge-pier-grpc-controller",
            "Certificate/edge-pier-grpc-dataplane", "Issuer/edge-pier-grpc-ca",
            "Issuer/edge-pier-selfsigned"]
        assert "Service/edge-pier-dataplane-metrics" in release_objects(cluster, "edge")
        # cert-manager (absent here) writes the Secrets; the chart must not.
        assert names(cluster, "secrets", "-n", ns, "-l", "app.kubernetes.io/instance=edge") == []
        cluster.helm("uninstall", "edge", "--namespace", ns)
        assert release_objects(cluster, "edge") == []
        assert names(cluster, "servicemonitors,podmonitors,prometheusrules,certificates,issuers",
                     "-n", ns) == []
    finally:
        cluster.run_kubectl("delete", "--wait=false", *[f"crd/{n}" for n in crds])


def test_plain_manifests_and_examples_pass_server_side_validation(cluster):
    # The Namespace for real (namespaced dry-runs need it), everything else as a dry run.
    cluster.kubectl("apply", "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pier-system"}}))
    certs = subprocess.run(["bash", str(REPO_ROOT / "deploy" / "grpc-certs.sh")],
                           stdout=subprocess.PIPE, text=True, timeout=60, check=True).stdout
    out = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=certs)
    assert "secret/pier-grpc-controller created (server dry run)" in out
    out = cluster.kubectl("apply", "--dry-run=server", "-f", str(REPO_ROOT / "deploy" / "pier.yaml"))
    assert "deployment.apps/pier-dataplane created (server dry run)" in out
    cluster.kubectl("create", "namespace", "examples")
    out = cluster.kubectl("apply", "--dry-run=server", "-n", "examples",
                          "-f", str(REPO_ROOT / "deploy" / "examples"))
    assert out.count("ingress.networking.k8s.io/") == 6, out
