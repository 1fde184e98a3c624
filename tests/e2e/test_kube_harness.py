"""The e2e harness itself: a real etcd + kube-apiserver on loopback behaves as one.

Skips only when tools/kube-tools.sh cannot produce the binaries.
"""

import json
import time

import pytest

from kubeharness import KubeCluster, KubeToolsUnavailable, kube_tools_bin_dir

MANIFESTS = """\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: pier
spec:
  controller: pier.dev/ingress-controller
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: default
spec:
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-1
  namespace: default
  labels:
    kubernetes.io/service-name: echo
addressType: IPv4
ports:
- name: http
  port: 8080
  protocol: TCP
endpoints:
- addresses: ["198.51.100.10"]
  conditions:
    ready: true
"""

# The API refuses loopback (and link-local, unspecified) endpoint addresses, so
# EndpointSlices cannot point straight at 127.0.0.1 backends; this pins that fact.
LOOPBACK_SLICE = """\
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-loopback
  namespace: default
  labels:
    kubernetes.io/service-name: echo
addressType: IPv4
ports:
- name: http
  port: 8080
endpoints:
- addresses: ["127.0.0.1"]
"""


@pytest.fixture(scope="module")
def cluster():
    try:
        bin_dir = kube_tools_bin_dir()
    except KubeToolsUnavailable as error:
        pytest.skip(f"no Kubernetes binaries: {error}")
    with KubeCluster(bin_dir) as running:
        yield running


def get_json(cluster, *args):
    return json.loads(cluster.kubectl("get", "-o", "json", *args))


def assert_objects_present(cluster):
    ingress_class = get_json(cluster, "ingressclass", "pier")
    assert ingress_class["spec"]["controller"] == "pier.dev/ingress-controller"
    service = get_json(cluster, "service", "echo", "-n", "default")
    assert service["spec"]["ports"][0]["targetPort"] == 8080
    assert service["spec"]["clusterIP"].startswith("10.96.")
    slice_ = get_json(cluster, "endpointslice", "echo-1", "-n", "default")
    assert slice_["endpoints"][0]["addresses"] == ["198.51.100.10"]
    assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == "echo"


def test_cluster_is_ready_and_admin_is_system_masters(cluster):
    status, body = cluster.get("/readyz")
    assert status == 200, body
    assert cluster.server_url.startswith("https://127.0.0.1:")
    version = json.loads(cluster.kubectl("version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"].startswith("v1.")
    assert cluster.kubectl("auth", "can-i", "*", "*").strip() == "yes"


def test_helm_talks_to_the_cluster(cluster):
    assert json.loads(cluster.helm("list", "--all-namespaces", "--output=json")) == []


def test_apply_ingress_class_service_and_endpoint_slice(cluster):
    out = cluster.kubectl("apply", "-f", "-", input=MANIFESTS)
    assert "ingressclass.networking.k8s.io/pier created" in out
    assert "service/echo created" in out
    assert "endpointslice.discovery.k8s.io/echo-1 created" in out
    assert_objects_present(cluster)


def test_endpoint_slice_may_not_point_at_loopback(cluster):
    result = cluster.run_kubectl("apply", "-f", "-", input=LOOPBACK_SLICE)
    assert result.returncode != 0
    assert "may not be in the loopback range" in result.stderr


def test_restart_apiserver_keeps_data(cluster):
    cluster.kubectl("apply", "-f", "-", input=MANIFESTS)
    before = get_json(cluster, "service", "echo")["metadata"]["uid"]
    old_url = cluster.server_url
    cluster.restart_apiserver()
    assert cluster.server_url == old_url
    assert get_json(cluster, "service", "echo")["metadata"]["uid"] == before
    assert_objects_present(cluster)


def test_compact_etcd_expires_old_resource_versions(cluster):
    cluster.kubectl("apply", "-f", "-", input=MANIFESTS)
    old_rv = get_json(cluster, "service", "echo")["metadata"]["resourceVersion"]
    for i in range(3):  # move etcd's revision past old_rv
        cluster.kubectl("annotate", "--overwrite", "service", "echo", f"pier.dev/bump={i}")
    revision = cluster.compact_etcd()
    assert revision > int(old_rv)
    # A list at an exact, now compacted revision must reach etcd and come back 410 Gone.
    path = (f"/api/v1/namespaces/default/services?resourceVersion={old_rv}"
            "&resourceVersionMatch=Exact")
    deadline = time.monotonic() + 10
    while True:
        status, body = cluster.get(path)
        if status == 410 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 410, body
    assert json.loads(body)["reason"] == "Expired"


def test_watch_from_compacted_version_is_gone_after_restart(cluster):
    cluster.kubectl("apply", "-f", "-", input=MANIFESTS)
    old_rv = get_json(cluster, "endpointslice", "echo-1")["metadata"]["resourceVersion"]
    cluster.kubectl("annotate", "--overwrite", "endpointslice", "echo-1", "pier.dev/bump=watch")
    cluster.compact_etcd()
    # The restarted apiserver's watch cache starts at the compacted revision, so a watch
    # resumed from an older resourceVersion ends at once with an ERROR event, 410 Expired.
    cluster.restart_apiserver()
    status, body = cluster.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                               f"?watch=1&resourceVersion={old_rv}&timeoutSeconds=5")
    assert status == 200, body
    event = json.loads(body.splitlines()[0])
    assert event["type"] == "ERROR", event
    assert event["object"]["code"] == 410
    assert event["object"]["reason"] == "Expired"


def test_token_kubeconfig_authenticates_as_service_account(cluster):
    cluster.kubectl("apply", "-f", "-", input=MANIFESTS)
    kubeconfig = cluster.token_kubeconfig("pier", "pier-system")
    whoami = json.loads(cluster.kubectl("auth", "whoami", "-o", "json", kubeconfig=kubeconfig))
    assert whoami["status"]["userInfo"]["username"] == "system:serviceaccount:pier-system:pier"
    # RBAC is on and nothing is bound yet: reading EndpointSlices is forbidden.
    denied = cluster.run_kubectl("get", "endpointslices", "-A", kubeconfig=kubeconfig)
    assert denied.returncode != 0 and "forbidden" in denied.stderr
    cluster.kubectl("create", "clusterrole", "pier-read", "--verb=get,list,watch",
                    "--resource=endpointslices.discovery.k8s.io")
    cluster.kubectl("create", "clusterrolebinding", "pier-read", "--clusterrole=pier-read",
                    "--serviceaccount=pier-system:pier")
    deadline = time.monotonic() + 10  # RBAC changes reach the authorizer's cache quickly
    while True:
        allowed = cluster.run_kubectl("get", "endpointslices", "-A", kubeconfig=kubeconfig)
        if allowed.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert allowed.returncode == 0, allowed.stderr
    assert "echo-1" in allowed.stdout


def test_processes_are_gone_after_exit():
    try:
        bin_dir = kube_tools_bin_dir(build=False)
    except KubeToolsUnavailable as error:
        pytest.skip(f"no Kubernetes binaries: {error}")
    with KubeCluster(bin_dir) as second:
        processes = [second._apiserver.popen, second._etcd.popen]
        workdir = second.workdir
    assert all(p.poll() is not None for p in processes)
    assert not workdir.exists()


def test_processes_are_gone_after_an_exception():
    try:
        bin_dir = kube_tools_bin_dir(build=False)
    except KubeToolsUnavailable as error:
        pytest.skip(f"no Kubernetes binaries: {error}")
    processes = []
    with pytest.raises(RuntimeError, match="boom"):
        with KubeCluster(bin_dir) as third:
            processes = [third._apiserver.popen, third._etcd.popen]
            raise RuntimeError("boom")
    assert processes and all(p.poll() is not None for p in processes)
