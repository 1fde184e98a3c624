"""helm lint and helm template: the chart renders with every values file in charts/pier/ci,
the schema refuses typos, and each values switch does what values.yaml says."""

from __future__ import annotations

import pytest

from chartlib import (CHART, CI_VALUES, args_of, container, find, find_all, kinds)


def test_ci_values_files_cover_the_required_variants():
    names = {path.stem for path in CI_VALUES}
    assert {"daemonset-values", "certmanager-values", "metrics-values",
            "replicas2-values"} <= names


def test_lint_strict_with_defaults(helm):
    result = helm.run("lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)
def test_lint_strict_with_ci_values(helm, values):
    result = helm.run("lint", "--strict", str(CHART), "-f", str(values))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)
def test_template_with_ci_values(helm, values):
    objects = helm.template("-f", str(values), "--api-versions", "monitoring.coreos.com/v1")
    assert "Deployment" in kinds(objects)
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == "pier", obj["kind"]


def test_default_objects(helm):
    objects = helm.template()
    assert kinds(objects) == sorted([
        "ClusterRole", "ClusterRoleBinding", "Deployment", "Deployment", "IngressClass",
        "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Secret", "Service", "Service",
        "ServiceAccount", "ServiceAccount"])
    for obj in objects:
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding", "IngressClass"):
            assert obj["metadata"]["namespace"] == "pier-system", obj["kind"]


@pytest.mark.parametrize("typo", [
    ["--set", "controler.replicas=2"],                      # top-level key
    ["--set", "dataplane.replica=3"],                       # nested key
    ["--set", "dataplane.service.type=LoadBalancr"],        # enum value
    ["--set", "dataplane.kind=Daemonset"],
    ["--set", "controller.logLevel=verbose"],
    ["--set", "dataplane.config.readTimeout=an hour"],      # duration format
    ["--set-string", "dataplane.replicas=two"],             # type
    ["--set", "metrics.serviceMonitor.enable=true"],
    ["--set", "controller.defaultTLSSecret=wildcard-tls"],   # NAMESPACE/NAME
    ["--set", "controller.defaultBackendService=error-pages"],
])
def test_schema_refuses_typos(helm, typo):
    result = helm.run("template", "pier", str(CHART), *typo)
    assert result.returncode != 0
    assert "schema" in result.stderr.lower(), result.stderr


def test_ingress_class(helm):
    objects = helm.template()
    ingress_class = find(objects, "IngressClass", "pier")
    assert ingress_class["spec"]["controller"] == "pier.dev/ingress-controller"
    assert "annotations" not in ingress_class["metadata"]
    objects = helm.template("--set", "ingressClass.default=true")
    annotations = find(objects, "IngressClass")["metadata"]["annotations"]
    assert annotations["ingressclass.kubernetes.io/is-default-class"] == "true"
    assert "IngressClass" not in kinds(helm.template("--set", "ingressClass.create=false"))


def test_controller_flags(helm):
    controller = find(helm.template(), "Deployment", "pier-controller")
    args = args_of(controller)
    assert args[:3] == ["--source=cluster", "--ingress-class=pier",
                        "--controller-name=pier.dev/ingress-controller"]
    for flag in ("--grpc-listen=0.0.0.0:18000", "--grpc-tls-cert=/etc/pier/grpc/tls.crt",
                 "--grpc-tls-key=/etc/pier/grpc/tls.key",
                 "--grpc-client-ca=/etc/pier/grpc/ca.crt", "--metrics-listen=:10254",
                 "--publish-service=pier-system/pier-dataplane", "--log-format=json",
                 "--log-level=info"):
        assert flag in args
    assert not any(a.startswith("--leader-elect") for a in args)
    assert "--grpc-insecure" not in args
    assert controller["spec"]["replicas"] == 1
    assert container(controller)["command"] == ["/usr/local/bin/pier-controller"]
    volume = controller["spec"]["template"]["spec"]["volumes"][0]
    assert volume["secret"]["secretName"] == "pier-grpc-controller"


def test_default_tls_secret_becomes_the_flag(helm):
    args = args_of(find(helm.template(), "Deployment", "pier-controller"))
    assert not any(a.startswith("--default-tls-secret") for a in args)
    objects = helm.template("--set", "controller.defaultTLSSecret=pier-system/wildcard-tls")
    assert "--default-tls-secret=pier-system/wildcard-tls" in args_of(find(objects, "Deployment", "pier-controller"))


def test_default_backend_service_becomes_the_flag(helm):
    args = args_of(find(helm.template(), "Deployment", "pier-controller"))
    assert not any(a.startswith("--default-backend-service") for a in args)
    objects = helm.template("--set", "controller.defaultBackendService=pier-system/error-pages")
    assert "--default-backend-service=pier-system/error-pages" in args_of(find(objects, "Deployment", "pier-controller"))


def test_leader_election_only_with_more_than_one_replica(helm):
    objects = helm.template("--set", "controller.replicas=2")
    args = args_of(find(objects, "Deployment", "pier-controller"))
    assert "--leader-elect" in args
    assert "--leader-election-namespace=pier-system" in args
    assert "--leader-election-id=pier-controller-leader" in args
    budget = find(objects, "PodDisruptionBudget", "pier-controller")
    assert budget["spec"]["minAvailable"] == 1
    objects = helm.template("--set", "controller.replicas=3",
                            "--set", "controller.leaderElection.namespace=kube-system",
                            "--set", "controller.leaderElection.id=edge")
    args = args_of(find(objects, "Deployment", "pier-controller"))
    assert "--leader-election-namespace=kube-system" in args
    assert "--leader-election-id=edge" in args
    assert find(objects, "Role")["metadata"]["namespace"] == "kube-system"
    assert find(objects, "RoleBinding")["metadata"]["namespace"] == "kube-system"


def test_dataplane_flags_and_drain(helm):
    dataplane = find(helm.template(), "Deployment", "pier-dataplane")
    args = args_of(dataplane)
    for flag in ("--controller=pier-controller.pier-system.svc:18000",
                 "--grpc-tls-cert=/etc/pier/grpc/tls.crt", "--grpc-tls-key=/etc/pier/grpc/tls.key",
                 "--grpc-ca=/etc/pier/grpc/ca.crt", "--node-id=$(POD_NAME)", "--http-listen=:8080",
                 "--https-listen=:8443", "--admin-listen=:9090", "--drain-timeout=30s"):
        assert flag in args
    # Empty config values keep the binary's defaults rather than passing empty flags.
    assert not any(a.startswith("--default-") for a in args)
    pod = dataplane["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 5 + 30 + 10
    assert container(dataplane)["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    probes = container(dataplane)
    assert probes["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
    assert probes["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}
    assert dataplane["spec"]["replicas"] == 2


def test_dataplane_config_values_become_flags(helm):
    objects = helm.template("-f", str(CHART / "ci" / "replicas2-values.yaml"))
    args = args_of(find(objects, "Deployment", "pier-dataplane"))
    assert "--default-read-timeout=1h" in args
    assert "--default-send-timeout=1h" in args
    assert "--default-websocket-idle-timeout=1h" in args
    assert "--max-header-bytes=32k" in args


def test_grace_period_must_cover_the_drain(helm):
    result = helm.run("template", "pier", str(CHART), "--set", "dataplane.drainTimeoutSeconds=60",
                      "--set", "dataplane.terminationGracePeriodSeconds=30")
    assert result.returncode != 0
    assert "must be at least preStopSleepSeconds + drainTimeoutSeconds (65)" in result.stderr
    objects = helm.template("--set", "dataplane.drainTimeoutSeconds=60",
                            "--set", "dataplane.terminationGracePeriodSeconds=90")
    pod = find(objects, "Deployment", "pier-dataplane")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 90
    assert "--drain-timeout=60s" in pod["containers"][0]["args"]


def test_daemonset_switch(helm):
    objects = helm.template("-f", str(CHART / "ci" / "daemonset-values.yaml"),
                            "--set", "dataplane.autoscaling.enabled=true")
    daemonset = find(objects, "DaemonSet", "pier-dataplane")
    assert [d["metadata"]["name"] for d in find_all(objects, "Deployment")] == ["pier-controller"]
    # Neither an HPA nor a budget applies to a DaemonSet.
    assert "HorizontalPodAutoscaler" not in kinds(objects)
    assert "PodDisruptionBudget" not in kinds(objects)
    assert daemonset["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    service = find(objects, "Service", "pier-dataplane")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["externalTrafficPolicy"] == "Local"
    assert {p["name"]: p["nodePort"] for p in service["spec"]["ports"]} == {
        "http": 30080, "https": 30443}


def test_deployment_and_daemonset_share_the_pod(helm):
    deployment = find(helm.template(), "Deployment", "pier-dataplane")
    daemonset = find(helm.template("--set", "dataplane.kind=DaemonSet"), "DaemonSet")
    assert deployment["spec"]["template"] == daemonset["spec"]["template"]


def test_hpa_replaces_replicas(helm):
    objects = helm.template("-f", str(CHART / "ci" / "replicas2-values.yaml"))
    hpa = find(objects, "HorizontalPodAutoscaler", "pier-dataplane")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "pier-dataplane"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    names = [m["resource"]["name"] for m in hpa["spec"]["metrics"]]
    assert names == ["cpu", "memory"]
    assert "replicas" not in find(objects, "Deployment", "pier-dataplane")["spec"]
    result = helm.run("template", "pier", str(CHART), "--set", "dataplane.autoscaling.enabled=true",
                      "--set", "dataplane.autoscaling.targetCPUUtilizationPercentage=null")
    assert result.returncode != 0 and "targetCPUUtilizationPercentage" in result.stderr


def test_dataplane_budget_only_with_more_than_one_replica(helm):
    assert find(helm.template(), "PodDisruptionBudget", "pier-dataplane")["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "pier",
                                     "app.kubernetes.io/instance": "pier",
                                     "app.kubernetes.io/component": "dataplane"}}}
    objects = helm.template("--set", "dataplane.replicas=1")
    assert "PodDisruptionBudget" not in kinds(objects)


@pytest.mark.parametrize("service_type", ["LoadBalancer", "NodePort", "ClusterIP"])
def test_service_types(helm, service_type):
    objects = helm.template("--set", f"dataplane.service.type={service_type}",
                            "--set", "dataplane.service.nodePorts.http=30080")
    service = find(objects, "Service", "pier-dataplane")
    assert service["spec"]["type"] == service_type
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert (ports["http"]["port"], ports["http"]["targetPort"]) == (80, "http")
    assert (ports["https"]["port"], ports["https"]["targetPort"]) == (443, "https")
    assert ("nodePort" in ports["http"]) == (service_type != "ClusterIP")
    assert "externalTrafficPolicy" not in service["spec"]


def test_external_traffic_policy_needs_an_external_service(helm):
    result = helm.run("template", "pier", str(CHART), "--set", "dataplane.service.type=ClusterIP",
                      "--set", "dataplane.service.externalTrafficPolicy=Local")
    assert result.returncode != 0
    assert "only to LoadBalancer and NodePort" in result.stderr


def test_https_can_be_turned_off(helm):
    objects = helm.template("-f", str(CHART / "ci" / "clusterip-values.yaml"))
    dataplane = find(objects, "Deployment", "pier-dataplane")
    assert "--https-listen=" in args_of(dataplane)
    assert [p["name"] for p in container(dataplane)["ports"]] == ["http", "admin"]
    service = find(objects, "Service", "pier-dataplane")
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    args = args_of(find(objects, "Deployment", "pier-controller"))
    assert "--publish-service=edge/external-lb" in args
    assert "--namespace=apps" in args and "--watch-ingress-without-class" in args


@pytest.mark.parametrize("component", ["controller", "dataplane"])
def test_pods_are_locked_down(helm, component):
    objects = helm.template("--set", "dataplane.kind=DaemonSet")
    kind = "Deployment" if component == "controller" else "DaemonSet"
    workload = find(objects, kind, f"pier-{component}")
    pod = workload["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container(workload)["securityContext"]
    assert security == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]}}
    assert container(workload)["resources"]["requests"]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert container(workload)["image"] == "ghcr.io/pier-dev/pier:0.1.0"


def test_dataplane_has_no_api_access(helm):
    objects = helm.template()
    pod = find(objects, "Deployment", "pier-dataplane")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    account = find(objects, "ServiceAccount", "pier-dataplane")
    assert account["automountServiceAccountToken"] is False
    for binding in find_all(objects, "ClusterRoleBinding") + find_all(objects, "RoleBinding"):
        assert [s["name"] for s in binding["subjects"]] == ["pier-controller"]


def test_scheduling_values_reach_both_pods(helm):
    objects = helm.template(
        "--set", "controller.tolerations[0].key=dedicated",
        "--set", "controller.tolerations[0].operator=Exists",
        "--set", "dataplane.nodeSelector.role=edge",
        "--set", "dataplane.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight=1",
        "--set", "dataplane.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey=kubernetes.io/hostname",
        "--set", "image.digest=sha256:" + "a" * 64,
        "--set", "image.pullPolicy=Always")
    controller = find(objects, "Deployment", "pier-controller")["spec"]["template"]["spec"]
    dataplane = find(objects, "Deployment", "pier-dataplane")["spec"]["template"]["spec"]
    assert controller["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    assert dataplane["nodeSelector"] == {"kubernetes.io/os": "linux", "role": "edge"}
    assert "podAntiAffinity" in dataplane["affinity"]
    assert dataplane["containers"][0]["image"] == "ghcr.io/pier-dev/pier@sha256:" + "a" * 64
    assert dataplane["containers"][0]["imagePullPolicy"] == "Always"


def test_scrape_annotations(helm):
    objects = helm.template()
    controller = find(objects, "Deployment", "pier-controller")["spec"]["template"]["metadata"]
    dataplane = find(objects, "Deployment", "pier-dataplane")["spec"]["template"]["metadata"]
    assert controller["annotations"]["prometheus.io/port"] == "10254"
    assert dataplane["annotations"]["prometheus.io/port"] == "9090"
    assert dataplane["annotations"]["prometheus.io/scrape"] == "true"
    objects = helm.template("--set", "metrics.scrapeAnnotations=false")
    assert "annotations" not in find(objects, "Deployment", "pier-dataplane")["spec"]["template"]["metadata"]


MONITORING_VALUES = ["--set", "metrics.serviceMonitor.enabled=true",
                     "--set", "metrics.podMonitor.enabled=true",
                     "--set", "metrics.prometheusRule.enabled=true"]


def test_monitoring_objects_need_the_operator_api(helm):
    without = kinds(helm.template(*MONITORING_VALUES))
    assert not {"ServiceMonitor", "PodMonitor", "PrometheusRule"} & set(without)
    assert without.count("Service") == 2  # no metrics Service for a ServiceMonitor
    objects = helm.template(*MONITORING_VALUES, "--api-versions", "monitoring.coreos.com/v1")
    monitors = {m["metadata"]["name"]: m for m in find_all(objects, "ServiceMonitor")}
    assert set(monitors) == {"pier-controller", "pier-dataplane"}
    assert monitors["pier-dataplane"]["spec"]["endpoints"][0]["port"] == "admin"
    assert monitors["pier-controller"]["spec"]["endpoints"][0]["port"] == "metrics"
    assert all(m["spec"]["endpoints"][0]["honorLabels"] for m in monitors.values())
    metrics_service = find(objects, "Service", "pier-dataplane-metrics")
    assert metrics_service["spec"]["clusterIP"] == "None"
    assert len(find_all(objects, "PodMonitor")) == 2


def test_prometheus_rule_is_the_alerts_file(helm):
    import yaml
    objects = helm.template("-f", str(CHART / "ci" / "metrics-values.yaml"),
                            "--api-versions", "monitoring.coreos.com/v1")
    rule = find(objects, "PrometheusRule", "pier")
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    source = yaml.safe_load((CHART / "files" / "pier-alerts.yaml").read_text())
    assert rule["spec"] == source


def test_dashboard_configmap_is_the_dashboard_file(helm):
    import json
    objects = helm.template("-f", str(CHART / "ci" / "metrics-values.yaml"))
    config_map = find(objects, "ConfigMap", "pier-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "Ingress"}
    source = json.loads((CHART / "files" / "pier-dashboard.json").read_text())
    assert json.loads(config_map["data"]["pier.json"]) == source
    assert "ConfigMap" not in kinds(helm.template())


def test_names_follow_the_release(helm):
    objects = helm.template(release="edge", namespace="ingress")
    assert find(objects, "Deployment", "edge-pier-controller")
    args = args_of(find(objects, "Deployment", "edge-pier-dataplane"))
    assert "--controller=edge-pier-controller.ingress.svc:18000" in args
    objects = helm.template("--set", "fullnameOverride=" + "x" * 70)
    for obj in objects:
        assert len(obj["metadata"]["name"]) <= 63
