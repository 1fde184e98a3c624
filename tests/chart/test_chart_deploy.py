"""deploy/: the rendered manifests are not stale, the examples are the scenarios with valid
pier.dev/ annotations, and grpc-certs.sh makes a working mutual-TLS pair."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
import yaml

from chartlib import REPO_ROOT, find, find_all

DEPLOY = REPO_ROOT / "deploy"
EXAMPLES = DEPLOY / "examples"

# Mirrors the annotation table of DESIGN.md (a contract): every key an example uses must be one.
KNOWN_ANNOTATIONS = {
    "websocket", "websocket-services", "websocket-idle-timeout", "websocket-allowed-origins",
    "proxy-connect-timeout", "proxy-read-timeout", "proxy-send-timeout", "load-balance",
    "upstream-hash-by", "affinity", "affinity-mode", "session-cookie-name", "session-cookie-path",
    "session-cookie-max-age", "session-cookie-secure", "session-cookie-samesite",
    "session-cookie-domain", "limit-connections", "limit-rps", "limit-rpm",
    "limit-burst-multiplier", "limit-allowlist", "max-connections", "allowlist-source-range",
    "denylist-source-range", "ssl-redirect", "force-ssl-redirect", "backend-protocol",
    "proxy-body-size", "proxy-buffer-size",
}

# One example per scenario of SCENARIOS.md, each showing the annotations that make it work.
SCENARIO_ANNOTATIONS = {
    "websocket.yaml": {"websocket-idle-timeout", "proxy-read-timeout", "proxy-send-timeout"},
    "chat.yaml": {"websocket-idle-timeout"},
    "sticky-sessions.yaml": {"affinity", "session-cookie-name"},
    "tls.yaml": {"ssl-redirect"},
    "limits.yaml": {"limit-connections", "limit-rps"},
    "origin-allowlist.yaml": {"websocket-allowed-origins"},
}


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_rendered_deploy_files_are_fresh(helm):
    result = subprocess.run(["bash", str(REPO_ROOT / "tools" / "render-deploy.sh"), "--check"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(helm.env, HELM=str(helm.path)), timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-4000:]


def test_render_deploy_check_notices_a_stale_file(helm, tmp_path):
    # A copy of the repository parts the script reads, with one edit in the chart.
    (tmp_path / "tools").mkdir()
    for name in ("render-deploy.sh", "kube-tools.sh"):
        (tmp_path / "tools" / name).write_bytes((REPO_ROOT / "tools" / name).read_bytes())
    subprocess.run(["cp", "-r", str(REPO_ROOT / "charts"), str(REPO_ROOT / "deploy"),
                    str(tmp_path)], check=True)
    alerts = tmp_path / "charts/pier/files/pier-alerts.yaml"
    alerts.write_text(alerts.read_text().replace("for: 5m", "for: 6m"))
    result = subprocess.run(["bash", str(tmp_path / "tools/render-deploy.sh"), "--check"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(helm.env, HELM=str(helm.path)), timeout=60, check=False)
    assert result.returncode == 1
    assert "deploy/prometheus/pier-alerts.yaml is stale" in result.stderr
    assert "deploy/pier.yaml is stale" not in result.stderr


def test_plain_manifests_hold_no_private_keys():
    objects = load(DEPLOY / "pier.yaml")
    assert objects[0] == {"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": "pier-system",
                                       "labels": {"app.kubernetes.io/name": "pier",
                                                  "app.kubernetes.io/part-of": "pier"}}}
    assert not find_all(objects, "Secret")
    assert "PRIVATE KEY" not in (DEPLOY / "pier.yaml").read_text()
    volumes = {}
    for workload in find_all(objects, "Deployment"):
        pod = workload["spec"]["template"]["spec"]
        volumes[workload["metadata"]["name"]] = pod["volumes"][0]["secret"]["secretName"]
    assert volumes == {"pier-controller": "pier-grpc-controller",
                       "pier-dataplane": "pier-grpc-dataplane"}


def test_rendered_copies_match_the_chart_files():
    chart_files = REPO_ROOT / "charts" / "pier" / "files"
    assert (DEPLOY / "grafana/pier-dashboard.json").read_bytes() == \
        (chart_files / "pier-dashboard.json").read_bytes()
    assert (DEPLOY / "prometheus/pier-alerts.yaml").read_bytes() == \
        (chart_files / "pier-alerts.yaml").read_bytes()


def test_every_scenario_has_an_example():
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(SCENARIO_ANNOTATIONS)


@pytest.mark.parametrize("name", sorted(SCENARIO_ANNOTATIONS))
def test_example_is_an_ingress_with_its_service(name):
    objects = load(EXAMPLES / name)
    ingress = find(objects, "Ingress")
    services = {s["metadata"]["name"]: s for s in find_all(objects, "Service")}
    assert ingress["spec"]["ingressClassName"] == "pier"
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = services[backend["name"]]
            port = backend["port"]
            ports = service["spec"]["ports"]
            if "number" in port:
                assert port["number"] in [p["port"] for p in ports]
            else:
                assert port["name"] in [p["name"] for p in ports]
    annotations = ingress["metadata"].get("annotations", {})
    keys = set()
    for key in annotations:
        prefix, _, short = key.partition("/")
        assert prefix == "pier.dev", key
        assert short in KNOWN_ANNOTATIONS, key
        keys.add(short)
    assert SCENARIO_ANNOTATIONS[name] <= keys
    for value in annotations.values():
        assert isinstance(value, str)  # Kubernetes refuses non-string annotation values


def test_tls_example_references_a_secret():
    ingress = find(load(EXAMPLES / "tls.yaml"), "Ingress")
    tls = ingress["spec"]["tls"][0]
    assert tls["secretName"] == "chat-example-tls"
    assert tls["hosts"] == [ingress["spec"]["rules"][0]["host"]]


def openssl(*args: str, input: bytes | None = None) -> str:
    result = subprocess.run(["openssl", *args], input=input, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=30, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_grpc_certs_script_makes_a_mutual_tls_pair(tmp_path):
    result = subprocess.run(["bash", str(DEPLOY / "grpc-certs.sh"), "--namespace", "edge",
                             "--days", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    secrets = {s["metadata"]["name"]: s for s in load_text(result.stdout)}
    assert set(secrets) == {"pier-grpc-controller", "pier-grpc-dataplane"}
    files = {}
    for name, secret in secrets.items():
        assert secret["type"] == "kubernetes.io/tls"
        assert secret["metadata"]["namespace"] == "edge"
        for key in ("tls.crt", "tls.key", "ca.crt"):
            path = tmp_path / f"{name}-{key}"
            path.write_bytes(base64.b64decode(secret["data"][key]))
            files[name, key] = path
    ca = files["pier-grpc-controller", "ca.crt"]
    assert ca.read_bytes() == files["pier-grpc-dataplane", "ca.crt"].read_bytes()
    server = files["pier-grpc-controller", "tls.crt"]
    client = files["pier-grpc-dataplane", "tls.crt"]
    openssl("verify", "-CAfile", str(ca), "-purpose", "sslserver", str(server))
    openssl("verify", "-CAfile", str(ca), "-purpose", "sslclient", str(client))
    sans = openssl("x509", "-in", str(server), "-noout", "-ext", "subjectAltName")
    assert sans.split("\n")[1].strip().split(", ") == [
        "DNS:pier-controller", "DNS:pier-controller.edge", "DNS:pier-controller.edge.svc",
        "DNS:pier-controller.edge.svc.cluster.local"]
    # Each key belongs to its certificate.
    for name in secrets:
        cert_key = openssl("x509", "-in", str(files[name, "tls.crt"]), "-noout", "-pubkey")
        key_pub = openssl("pkey", "-in", str(files[name, "tls.key"]), "-pubout")
        assert cert_key == key_pub, name


def test_grpc_certs_script_refuses_bad_arguments():
    for args in (["--days", "0"], ["--bogus"], ["--namespace"]):
        result = subprocess.run(["bash", str(DEPLOY / "grpc-certs.sh"), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                timeout=30, check=False)
        assert result.returncode != 0, args
        assert result.stderr.startswith("grpc-certs: error:"), result.stderr
        assert result.stdout == ""


def load_text(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]
