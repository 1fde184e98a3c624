"""The controller's permissions, pinned rule by rule. The chart's RBAC templates are the only
place they are written; tools/render-rbac.sh (used by the e2e tests) renders exactly those."""

from __future__ import annotations

import subprocess

import yaml

from chartlib import REPO_ROOT, find, find_all

RENDER_RBAC = REPO_ROOT / "tools" / "render-rbac.sh"

# (apiGroup, resource) -> verbs. Anything more is a privilege the controller does not need.
EXPECTED_CLUSTER_RULES = {
    ("", "services"): {"get", "list", "watch"},
    ("", "secrets"): {"get", "list", "watch"},
    ("networking.k8s.io", "ingresses"): {"get", "list", "watch"},
    ("networking.k8s.io", "ingressclasses"): {"get", "list", "watch"},
    ("discovery.k8s.io", "endpointslices"): {"get", "list", "watch"},
    ("networking.k8s.io", "ingresses/status"): {"update"},
    ("events.k8s.io", "events"): {"create", "patch"},
}
EXPECTED_LEASE_RULES = {("coordination.k8s.io", "leases"): {"get", "create", "update"}}


def flatten(rules: list[dict]) -> dict[tuple[str, str], set[str]]:
    """Expands rules to (group, resource) -> verbs, refusing wildcards and name scoping
    that would make the comparison meaningless."""
    flat: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert "*" not in (group, resource) and "*" not in rule["verbs"], rule
                flat.setdefault((group, resource), set()).update(rule["verbs"])
    return flat


def render_rbac(*args: str, helm=None) -> list[dict]:
    env = None
    if helm is not None:
        env = dict(helm.env, HELM=str(helm.path))
    result = subprocess.run(["bash", str(RENDER_RBAC), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=60, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_cluster_role_is_exactly_what_the_controller_needs(helm):
    role = find(helm.template(), "ClusterRole", "pier-controller")
    assert flatten(role["rules"]) == EXPECTED_CLUSTER_RULES


def test_lease_role_is_exactly_leader_election(helm):
    role = find(helm.template(), "Role", "pier-controller-leader-election")
    assert role["metadata"]["namespace"] == "pier-system"
    assert flatten(role["rules"]) == EXPECTED_LEASE_RULES


def test_no_other_rbac_objects(helm):
    objects = helm.template("-f", str(REPO_ROOT / "charts/pier/ci/replicas2-values.yaml"))
    for kind in ("ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"):
        assert len(find_all(objects, kind)) == 1, kind
    binding = find(objects, "ClusterRoleBinding", "pier-controller")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole", "name": "pier-controller"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "pier-controller",
                                    "namespace": "pier-system"}]


def test_render_rbac_script_renders_only_rbac(helm):
    objects = render_rbac("--namespace", "pier-e2e", helm=helm)
    assert sorted(o["kind"] for o in objects) == [
        "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount"]
    assert flatten(find(objects, "ClusterRole")["rules"]) == EXPECTED_CLUSTER_RULES
    assert flatten(find(objects, "Role")["rules"]) == EXPECTED_LEASE_RULES
    account = find(objects, "ServiceAccount", "pier-controller")
    assert account["metadata"]["namespace"] == "pier-e2e"
    assert find(objects, "Role")["metadata"]["namespace"] == "pier-e2e"


def test_render_rbac_script_takes_release_and_helm_args(helm):
    objects = render_rbac("--release", "edge", "--namespace", "ingress", "--set",
                          "controller.leaderElection.namespace=locks", helm=helm)
    assert find(objects, "ServiceAccount")["metadata"]["name"] == "edge-pier-controller"
    assert find(objects, "Role")["metadata"]["namespace"] == "locks"
    subjects = find(objects, "RoleBinding")["subjects"]
    assert subjects == [{"kind": "ServiceAccount", "name": "edge-pier-controller",
                         "namespace": "ingress"}]
