"""Ingress status and Warning Events written by pier-controller to a real kube-apiserver.

The controller runs with the chart's RBAC (tools/render-rbac.sh) and a ServiceAccount token,
not as admin, so a write the chart does not allow fails these tests. It publishes the address
of a LoadBalancer Service standing in for the dataplane Service: first its ClusterIP (no load
balancer has filled its status), then the ingress IP the test writes into the Service's status,
as a cloud controller would.
"""

from __future__ import annotations

import json

import pytest

from controller_process import (RBAC_NAMESPACE, ControllerProcess, apply, chart_rbac_kubeconfig,
                                cluster_for_controller, wait_until)
from kubeharness import KubeCluster

NAMESPACE = "pier-status-e2e"
PUBLISH = "pier-dataplane"
STATUS_TIMEOUT_S = 20.0
LB_IP = "203.0.113.10"


def ingress(name: str, annotations: dict | None = None, ingress_class: str = "pier") -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": NAMESPACE, "annotations": annotations or {}},
            "spec": {"ingressClassName": ingress_class, "rules": [{
                "host": f"{name}.example.com",
                "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                    "service": {"name": "web", "port": {"number": 80}}}}]}}]}}


BASE_OBJECTS = [
    {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "pier"},
     "spec": {"controller": "pier.dev/ingress-controller"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": PUBLISH, "namespace": RBAC_NAMESPACE},
     "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": NAMESPACE},
     "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
     "metadata": {"name": "web-1", "namespace": NAMESPACE, "labels": {"kubernetes.io/service-name": "web"}},
     "addressType": "IPv4", "ports": [{"name": "http", "port": 8080}],
     "endpoints": [{"addresses": ["198.51.100.10"], "conditions": {"ready": True}}]},
]


@pytest.fixture(scope="module")
def cluster():
    yield from cluster_for_controller(NAMESPACE)


@pytest.fixture(scope="module")
def kubeconfig(cluster):
    return chart_rbac_kubeconfig(cluster)


@pytest.fixture(scope="module")
def controller(cluster, kubeconfig):
    apply(cluster, *BASE_OBJECTS)
    with ControllerProcess(kubeconfig, cluster.workdir, "status",
                           f"--publish-service={RBAC_NAMESPACE}/{PUBLISH}") as started:
        yield started
        assert started.running(), f"the controller died:\n{started.log_tail()}"


def status_of(cluster: KubeCluster, name: str) -> list:
    out = cluster.kubectl("get", "ingress", name, "-n", NAMESPACE, "-o", "json")
    return json.loads(out).get("status", {}).get("loadBalancer", {}).get("ingress", [])


def wait_status(cluster: KubeCluster, controller: ControllerProcess, name: str, expected: list) -> None:
    try:
        wait_until(lambda: status_of(cluster, name) == expected, STATUS_TIMEOUT_S,
                   f"ingress {name} status {expected}")
    except AssertionError as error:
        raise AssertionError(f"{error}\ncontroller log:\n{controller.log_tail()}") from None


def cluster_ip(cluster: KubeCluster) -> str:
    return cluster.kubectl("get", "service", PUBLISH, "-n", RBAC_NAMESPACE,
                           "-o", "jsonpath={.spec.clusterIP}").strip()


def test_status_shows_the_cluster_ip_then_the_load_balancer_ip(cluster, controller):
    apply(cluster, ingress("app"))
    wait_status(cluster, controller, "app", [{"ip": cluster_ip(cluster)}])

    cluster.kubectl("patch", "service", PUBLISH, "-n", RBAC_NAMESPACE, "--subresource=status",
                    "--type=merge", "-p", json.dumps({"status": {"loadBalancer": {"ingress": [{"ip": LB_IP}]}}}))
    wait_status(cluster, controller, "app", [{"ip": LB_IP}])


def test_status_is_written_once_not_on_every_build(cluster, controller):
    apply(cluster, ingress("steady"))
    wait_status(cluster, controller, "steady", [{"ip": LB_IP}])
    # Unrelated changes rebuild the snapshot; the status already matches, so no write follows.
    for replicas in range(3):
        apply(cluster, {**BASE_OBJECTS[2], "metadata": {**BASE_OBJECTS[2]["metadata"],
                                                         "labels": {"round": str(replicas)}}})
    wait_until(lambda: "labels" in cluster.kubectl("get", "service", "web", "-n", NAMESPACE, "-o", "json"),
               5, "web relabelled")
    writes = controller.log().count(f"ingress {NAMESPACE}/steady load balancer set to")
    assert writes == 1, controller.log_tail()


def test_ingress_that_leaves_the_class_loses_our_address(cluster, controller):
    apply(cluster, ingress("leaving"))
    wait_status(cluster, controller, "leaving", [{"ip": LB_IP}])
    apply(cluster, ingress("leaving", ingress_class="someone-else"))
    wait_status(cluster, controller, "leaving", [])


def test_bad_annotation_is_a_warning_event_in_kubectl_describe(cluster, controller):
    apply(cluster, ingress("bad", {"pier.dev/proxy-connect-timeout": "banana"}))

    def described():
        out = cluster.kubectl("describe", "ingress", "bad", "-n", NAMESPACE)
        return out if "InvalidAnnotation" in out else None
    try:
        out = wait_until(described, STATUS_TIMEOUT_S, "InvalidAnnotation in kubectl describe ingress bad")
    except AssertionError as error:
        raise AssertionError(f"{error}\ncontroller log:\n{controller.log_tail()}") from None
    events = out[out.index("Events:"):]
    line = next(row for row in events.splitlines() if "InvalidAnnotation" in row)
    assert line.split()[0] == "Warning", events
    assert "pier.dev/proxy-connect-timeout" in events, events

    listed = json.loads(cluster.kubectl("get", "events.events.k8s.io", "-n", NAMESPACE, "-o", "json"))["items"]
    ours = [event for event in listed if event.get("regarding", {}).get("name") == "bad"]
    assert len(ours) == 1, ours
    event = ours[0]
    assert event["type"] == "Warning"
    assert event["reportingController"] == "pier.dev/ingress-controller"
    assert event["reportingInstance"] == controller.identity()
    uid = cluster.kubectl("get", "ingress", "bad", "-n", NAMESPACE, "-o", "jsonpath={.metadata.uid}").strip()
    assert event["regarding"]["uid"] == uid


def test_missing_backend_service_is_reported(cluster, controller):
    broken = ingress("orphan")
    broken["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "absent"
    apply(cluster, broken)

    def described():
        out = cluster.kubectl("describe", "ingress", "orphan", "-n", NAMESPACE)
        return out if "MissingService" in out else None
    wait_until(described, STATUS_TIMEOUT_S, "MissingService in kubectl describe ingress orphan")


def test_publish_status_address_is_written_instead_of_the_service_address(cluster, kubeconfig, controller):
    # A second controller for its own class, publishing fixed addresses as on bare metal where
    # a VIP or a DNS name fronts the nodes; the first controller's Service address is not used.
    apply(cluster, {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "pier-fixed"},
                    "spec": {"controller": "pier.dev/fixed"}})
    with ControllerProcess(kubeconfig, cluster.workdir, "fixed",
                           "--ingress-class=pier-fixed", "--controller-name=pier.dev/fixed",
                           f"--publish-service={RBAC_NAMESPACE}/{PUBLISH}",
                           "--publish-status-address=192.0.2.7, edge.example.com") as fixed:
        apply(cluster, ingress("fixed", ingress_class="pier-fixed"))
        wait_status(cluster, fixed, "fixed", [{"hostname": "edge.example.com"}, {"ip": "192.0.2.7"}])
        assert fixed.running(), fixed.log_tail()
    # The first controller does not serve that class and leaves the status alone.
    assert status_of(cluster, "fixed") == [{"hostname": "edge.example.com"}, {"ip": "192.0.2.7"}]
