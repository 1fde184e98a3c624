"""The controller<->dataplane channel is mutual TLS whoever issues the certificates: the chart
(genCA), cert-manager, or the operator (Secrets made beforehand)."""

from __future__ import annotations

import base64
import subprocess

from chartlib import CHART, find, find_all, kinds


def openssl(*args: str) -> str:
    result = subprocess.run(["openssl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def write_secret(secret: dict, directory) -> dict:
    paths = {}
    for key in ("tls.crt", "tls.key", "ca.crt"):
        path = directory / f"{secret['metadata']['name']}-{key}"
        path.write_bytes(base64.b64decode(secret["data"][key]))
        paths[key] = str(path)
    return paths


def test_chart_generates_a_ca_and_both_certificates(helm, tmp_path):
    objects = helm.template()
    controller = find(objects, "Secret", "pier-grpc-controller")
    dataplane = find(objects, "Secret", "pier-grpc-dataplane")
    assert controller["type"] == dataplane["type"] == "kubernetes.io/tls"
    assert controller["data"]["ca.crt"] == dataplane["data"]["ca.crt"]
    server = write_secret(controller, tmp_path)
    client = write_secret(dataplane, tmp_path)
    openssl("verify", "-CAfile", server["ca.crt"], "-purpose", "sslserver", server["tls.crt"])
    openssl("verify", "-CAfile", client["ca.crt"], "-purpose", "sslclient", client["tls.crt"])
    sans = openssl("x509", "-in", server["tls.crt"], "-noout", "-ext", "subjectAltName")
    # Dataplanes dial pier-controller.pier-system.svc; the certificate must name it.
    for name in ("pier-controller.pier-system.svc", "pier-controller.pier-system.svc.cluster.local"):
        assert f"DNS:{name}" in sans
    for paths in (server, client):
        assert openssl("x509", "-in", paths["tls.crt"], "-noout", "-pubkey") == \
            openssl("pkey", "-in", paths["tls.key"], "-pubout")


def test_cluster_domain_goes_into_the_certificate(helm, tmp_path):
    objects = helm.template("--set", "clusterDomain=corp.internal")
    server = write_secret(find(objects, "Secret", "pier-grpc-controller"), tmp_path)
    sans = openssl("x509", "-in", server["tls.crt"], "-noout", "-ext", "subjectAltName")
    assert "DNS:pier-controller.pier-system.svc.corp.internal" in sans


def test_cert_manager_issues_the_same_secrets(helm):
    objects = helm.template("-f", str(CHART / "ci" / "certmanager-values.yaml"))
    assert not find_all(objects, "Secret")
    issuers = {i["metadata"]["name"]: i["spec"] for i in find_all(objects, "Issuer")}
    assert issuers == {"pier-selfsigned": {"selfSigned": {}},
                       "pier-grpc-ca": {"ca": {"secretName": "pier-grpc-ca"}}}
    certificates = {c["metadata"]["name"]: c["spec"] for c in find_all(objects, "Certificate")}
    assert certificates["pier-grpc-ca"]["isCA"] is True
    assert certificates["pier-grpc-ca"]["issuerRef"]["name"] == "pier-selfsigned"
    controller = certificates["pier-grpc-controller"]
    dataplane = certificates["pier-grpc-dataplane"]
    assert controller["secretName"] == "pier-grpc-controller"
    assert dataplane["secretName"] == "pier-grpc-dataplane"
    assert "server auth" in controller["usages"] and "client auth" in dataplane["usages"]
    assert "pier-controller.pier-system.svc" in controller["dnsNames"]
    assert (controller["duration"], controller["renewBefore"]) == ("720h", "240h")
    for spec in (controller, dataplane):
        assert spec["issuerRef"] == {"kind": "Issuer", "name": "pier-grpc-ca"}
    # The pods mount the Secrets cert-manager writes, under the same names.
    pod = find(objects, "Deployment", "pier-dataplane")["spec"]["template"]["spec"]
    assert pod["volumes"][0]["secret"]["secretName"] == "pier-grpc-dataplane"


def test_operator_provided_secrets(helm):
    objects = helm.template("--set", "grpc.tls.generate=false")
    assert "Secret" not in kinds(objects)
    assert not find_all(objects, "Certificate")
    pod = find(objects, "Deployment", "pier-controller")["spec"]["template"]["spec"]
    assert pod["volumes"][0]["secret"]["secretName"] == "pier-grpc-controller"
