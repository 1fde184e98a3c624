"""The gRPC channel carries private keys: with --grpc-tls-* the controller demands a client
certificate from its own CA, so only Pier dataplanes can read snapshots."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import manifests as m
from harness import binary, free_port, wait_until
from rawhttp import request


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_ca(directory: Path, name: str) -> None:
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=directory)


def make_leaf(directory: Path, ca: str, name: str, san: str) -> None:
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=directory)
    (directory / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "1", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=directory)


@pytest.fixture
def pki(tmp_path) -> Path:
    directory = tmp_path / "pki"
    directory.mkdir()
    make_ca(directory, "ca")
    make_ca(directory, "rogue-ca")
    make_leaf(directory, "ca", "controller", "IP:127.0.0.1")
    make_leaf(directory, "ca", "dataplane", "DNS:dataplane")
    make_leaf(directory, "rogue-ca", "intruder", "DNS:dataplane")
    return directory


def dump(port: int, pki: Path, client: str | None) -> subprocess.CompletedProcess:
    args = [str(binary("pier-snapshot-dump")), "--controller", f"127.0.0.1:{port}", "--count", "1", "--timeout", "5"]
    if client:
        args += ["--tls-cert", str(pki / f"{client}.crt"), "--tls-key", str(pki / f"{client}.key"),
                 "--tls-ca", str(pki / "ca.crt")]
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


def test_only_clients_of_our_ca_get_snapshots(launcher, tmp_path, pki):
    manifests_dir = tmp_path / "manifests"
    manifests_dir.mkdir()
    (manifests_dir / "app.yaml").write_text(m.render(m.ingress_class(), *m.service_with_backends("app", [18080]),
                                                      m.ingress("app", [("/app", "app")])))
    port = free_port()
    metrics_port = free_port()
    # A non-loopback address is allowed because mutual TLS is on.
    process = launcher.start("controller", [
        binary("pier-controller"), "--source=manifests", "--manifests", manifests_dir,
        "--grpc-listen", f"0.0.0.0:{port}", "--metrics-listen", f"127.0.0.1:{metrics_port}",
        "--grpc-tls-cert", pki / "controller.crt", "--grpc-tls-key", pki / "controller.key",
        "--grpc-client-ca", pki / "ca.crt"])
    wait_until(lambda: request(metrics_port, "GET", "/readyz").status == 200, 20, "the controller's /readyz",
               alive=process.check_alive)

    accepted = dump(port, pki, "dataplane")
    assert accepted.returncode == 0, accepted.stderr
    assert '"version":"1"' in accepted.stdout

    assert dump(port, pki, "intruder").returncode != 0
    assert dump(port, pki, None).returncode != 0
    process.check_alive()
