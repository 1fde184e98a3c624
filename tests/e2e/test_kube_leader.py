"""Leader election between pier-controller replicas on a real kube-apiserver.

Two (later three) controllers run with --leader-elect and the chart's RBAC. Exactly one holds
the Lease and says so in pier_controller_is_leader; only it writes Ingress status and Events.
Killing it (SIGKILL: no release) hands over once the lease expires, within 20 s; stopping it
with SIGTERM releases the lease, so the handover takes about one retry period.
"""

from __future__ import annotations

import json
import time

import pytest

from controller_process import (RBAC_NAMESPACE, ControllerProcess, apply, chart_rbac_kubeconfig,
                                cluster_for_controller, wait_until)
from kubeharness import KubeCluster

NAMESPACE = "pier-leader-e2e"
LEASE = "pier-e2e-leader"
PUBLISH = "pier-dataplane"
ELECTED_TIMEOUT_S = 30.0
# client-go's guarantee with the defaults: lease duration 15 s plus a retry period or two.
KILL_HANDOVER_S = 20.0
# A released lease is free at once; the follower notices at its next round (2 s + jitter).
RELEASE_HANDOVER_S = 5.0


@pytest.fixture(scope="module")
def cluster():
    yield from cluster_for_controller(NAMESPACE)


@pytest.fixture(scope="module")
def kubeconfig(cluster):
    path = chart_rbac_kubeconfig(cluster)
    apply(cluster,
          {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "pier"},
           "spec": {"controller": "pier.dev/ingress-controller"}},
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": PUBLISH, "namespace": RBAC_NAMESPACE},
           "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    return path


def start(cluster: KubeCluster, kubeconfig, name: str) -> ControllerProcess:
    # The Lease namespace comes from the kubeconfig's context (pier-system), as in a pod.
    return ControllerProcess(kubeconfig, cluster.workdir, name, "--leader-elect",
                             f"--leader-election-id={LEASE}",
                             f"--publish-service={RBAC_NAMESPACE}/{PUBLISH}")


def lease_holder(cluster: KubeCluster) -> str:
    result = cluster.run_kubectl("get", "lease", LEASE, "-n", RBAC_NAMESPACE, "-o", "json")
    if result.returncode != 0:
        return ""
    return json.loads(result.stdout)["spec"].get("holderIdentity", "")


def lease_transitions(cluster: KubeCluster) -> int:
    out = cluster.kubectl("get", "lease", LEASE, "-n", RBAC_NAMESPACE, "-o", "json")
    return json.loads(out)["spec"].get("leaseTransitions", 0)


def the_leader(cluster: KubeCluster, controllers: list[ControllerProcess]) -> ControllerProcess | None:
    """The one controller that holds the Lease and reports is_leader 1 while all others report 0."""
    holder = lease_holder(cluster)
    leaders = [c for c in controllers if c.metric("pier_controller_is_leader") == 1]
    followers = [c for c in controllers if c.metric("pier_controller_is_leader") == 0]
    if len(leaders) == 1 and len(followers) == len(controllers) - 1 and leaders[0].identity() == holder:
        return leaders[0]
    return None


def wait_leader(cluster, controllers, timeout: float, what: str) -> ControllerProcess:
    try:
        return wait_until(lambda: the_leader(cluster, controllers), timeout, what, interval=0.1)
    except AssertionError as error:
        logs = "\n".join(f"--- {c.name}\n{c.log_tail(15)}" for c in controllers)
        raise AssertionError(f"{error}; lease holder {lease_holder(cluster)!r}\n{logs}") from None


def ingress(name: str, annotations: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": NAMESPACE, "annotations": annotations},
            "spec": {"ingressClassName": "pier", "defaultBackend": {
                "service": {"name": "web", "port": {"number": 80}}}}}


def events_for(cluster: KubeCluster, name: str) -> list[dict]:
    listed = json.loads(cluster.kubectl("get", "events.events.k8s.io", "-n", NAMESPACE, "-o", "json"))["items"]
    return [event for event in listed if event.get("regarding", {}).get("name") == name]


def test_one_leader_writes_then_kill_and_sigterm_hand_over(cluster, kubeconfig):
    a, b = start(cluster, kubeconfig, "a"), start(cluster, kubeconfig, "b")
    c = None
    try:
        leader = wait_leader(cluster, [a, b], ELECTED_TIMEOUT_S, "one leader of two")
        follower = b if leader is a else a

        # Only the leader writes: the Event names it, and the follower logged no write at all.
        apply(cluster, ingress("bad", {"pier.dev/proxy-read-timeout": "soon"}))
        # Two problems (the annotation, and Service web does not exist): two Events, both the leader's.
        events = wait_until(lambda: len(events_for(cluster, "bad")) >= 2 and events_for(cluster, "bad"),
                            ELECTED_TIMEOUT_S, "two Events on ingress bad")
        assert sorted(event["reason"] for event in events) == ["InvalidAnnotation", "MissingService"]
        assert {event["reportingInstance"] for event in events} == {leader.identity()}
        wait_until(lambda: cluster.kubectl("get", "ingress", "bad", "-n", NAMESPACE,
                                           "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}").strip(),
                   ELECTED_TIMEOUT_S, "status of ingress bad")
        assert "status: ingress" in leader.log()
        for line in follower.log().splitlines():
            assert "load balancer set to" not in line and "events:" not in line, line
        assert len(events_for(cluster, "bad")) == 2
        # A follower keeps serving snapshots all along.
        assert follower.metric("pier_controller_snapshots_total") >= 1

        # SIGKILL: the lease is not released; the follower waits for it to expire.
        transitions = lease_transitions(cluster)
        killed_at = time.monotonic()
        leader.kill()
        survivor = wait_leader(cluster, [follower], KILL_HANDOVER_S, "takeover after SIGKILL")
        took = time.monotonic() - killed_at
        assert survivor is follower
        assert lease_transitions(cluster) == transitions + 1
        print(f"takeover after SIGKILL: {took:.1f} s")
        # The new leader reports the same two warnings under the same Event names: it finds
        # them recorded and adds no duplicate.
        wait_until(lambda: survivor.log().count("already recorded as") >= 2, ELECTED_TIMEOUT_S,
                   "the new leader to find both Events recorded")
        assert len(events_for(cluster, "bad")) == 2, events_for(cluster, "bad")

        # SIGTERM: the leader releases the lease and a new follower takes over at once.
        c = start(cluster, kubeconfig, "c")
        wait_leader(cluster, [survivor, c], ELECTED_TIMEOUT_S, "c follows")
        stop_started = time.monotonic()
        survivor.terminate()
        assert survivor.process.returncode == 0, survivor.log_tail()
        assert "released lease" in survivor.log(), survivor.log_tail()
        wait_leader(cluster, [c], RELEASE_HANDOVER_S, "takeover after SIGTERM (released lease)")
        print(f"takeover after SIGTERM: {time.monotonic() - stop_started:.1f} s")
    finally:
        for controller in (a, b, c):
            if controller is not None:
                controller.kill()
