"""The controller's side of TLS, seen from the wire: a TLS Secret in the manifests folder that
turns bad is reported (BadTLSSecret in the log) and its host keeps the previous good certificate
while the other hosts are unaffected; a good Secret again ships the new certificate; and
--default-tls-secret becomes Snapshot.default_certificate once it exists and is usable.
pier-snapshot-dump prints each private key as a placeholder (size and SHA-256) unless asked
for it with --show-private-keys."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

import manifests as m
from harness import binary, wait_until
from rawhttp import request
from test_controller_runtime import READY_TIMEOUT_S, Controller

# A change in the folder reaches dataplanes within a second; the log line comes with it.
CHANGE_TIMEOUT_S = 5.0


def key_pair(directory: Path, name: str, host: str) -> tuple[str, str]:
    """A fresh self-signed certificate for `host` and its key, as PEM text."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}",
                    "-keyout", f"{name}.key", "-out", f"{name}.crt"],
                   cwd=directory, check=True, capture_output=True, timeout=30)
    return (directory / f"{name}.crt").read_text(), (directory / f"{name}.key").read_text()


def tls_secret(name: str, certificate: str, key: str) -> dict:
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": m.NAMESPACE},
            "data": {"tls.crt": encode(certificate), "tls.key": encode(key)}}


def tls_ingress(name: str, host: str, secret: str) -> dict:
    ingress = m.ingress(name, [("/", "app")], host=host)
    ingress["spec"]["tls"] = [{"hosts": [host], "secretName": secret}]
    return ingress


def certificates(snapshot: dict) -> dict[str, dict]:
    return {c["name"]: c for c in snapshot.get("certificates", [])}


def vhost_certificate(snapshot: dict, host: str) -> str:
    return next(v.get("tls_certificate", "") for v in snapshot["virtual_hosts"] if v["host"] == host)


def current_snapshot(controller: Controller, *args: str) -> dict:
    """The snapshot a dataplane connecting now gets (an unchanged snapshot is not re-pushed)."""
    return controller.dump("--count", "1", *args).wait_for(1)[0]


def redacted(key: str) -> str:
    """What pier-snapshot-dump prints instead of a private key."""
    data = key.encode()
    return f"<redacted: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}; --show-private-keys prints it>"


class TlsController(Controller):
    def __init__(self, launcher, workdir: Path, extra: list[str]):
        super().__init__(launcher, workdir)
        self.extra = extra

    def start(self) -> "TlsController":
        self.process = self.launcher.start("controller", [
            binary("pier-controller"), "--source=manifests", "--manifests", self.manifests_dir,
            "--grpc-listen", f"127.0.0.1:{self.grpc_port}",
            "--metrics-listen", f"127.0.0.1:{self.metrics_port}", "--log-level", "debug", *self.extra])
        wait_until(lambda: request(self.metrics_port, "GET", "/readyz").status == 200, READY_TIMEOUT_S,
                   "the controller's /readyz", alive=self.process.check_alive)
        return self


@pytest.fixture
def pki(tmp_path) -> dict[str, tuple[str, str]]:
    directory = tmp_path / "pki"
    directory.mkdir()
    return {name: key_pair(directory, name, host)
            for name, host in [("a1", "a.example"), ("a2", "a.example"), ("b", "b.example"),
                               ("wild", "default.example")]}


def write_app(controller: Controller) -> None:
    controller.write("app.yaml", m.render(m.ingress_class(), *m.service_with_backends("app", [18080]),
                                          tls_ingress("a", "a.example", "a-tls"),
                                          tls_ingress("b", "b.example", "b-tls")))


def test_bad_secret_keeps_the_previous_certificate_until_fixed(launcher, tmp_path, pki):
    controller = TlsController(launcher, tmp_path, [])
    write_app(controller)
    controller.write("b-tls.yaml", m.render(tls_secret("b-tls", *pki["b"])))
    controller.write("a-tls.yaml", m.render(tls_secret("a-tls", *pki["a1"])))
    controller.start()

    first = current_snapshot(controller)
    assert certificates(first)["default/a-tls"]["certificate_chain_pem"] == pki["a1"][0]
    # The dump hides the keys unless asked; the controller sends them whole.
    assert certificates(first)["default/a-tls"]["private_key_pem"] == redacted(pki["a1"][1])
    assert "PRIVATE KEY" not in json.dumps(first)
    shown = current_snapshot(controller, "--show-private-keys")
    assert certificates(shown)["default/a-tls"]["private_key_pem"] == pki["a1"][1]
    assert certificates(shown)["default/b-tls"]["private_key_pem"] == pki["b"][1]
    assert certificates(first)["default/a-tls"]["sni_names"] == ["a.example"]
    assert vhost_certificate(first, "a.example") == "default/a-tls"
    b_certificate = certificates(first)["default/b-tls"]

    broken = {
        "garbage": (pki["a2"][0].replace("MII", "!!!", 1), pki["a2"][1]),
        "mismatched key": (pki["a2"][0], pki["a1"][1]),
    }
    log = controller.process.log_text
    for what, (certificate, key) in broken.items():
        seen = log().count("BadTLSSecret: ingress default/a: secret default/a-tls: ")
        controller.write("a-tls.yaml", m.render(tls_secret("a-tls", certificate, key)))
        wait_until(lambda: log().count("BadTLSSecret: ingress default/a: secret default/a-tls: ") > seen,
                   CHANGE_TIMEOUT_S, f"the BadTLSSecret warning for a {what}")
        line = [l for l in log().splitlines() if "BadTLSSecret: ingress default/a:" in l][-1]
        assert line.endswith("; hosts a.example keep its previous good certificate"), line
        if what == "mismatched key":
            assert "private key does not match the leaf certificate" in line, line
        snapshot = current_snapshot(controller)
        assert certificates(snapshot)["default/a-tls"]["certificate_chain_pem"] == pki["a1"][0], what
        assert certificates(snapshot)["default/a-tls"]["private_key_pem"] == redacted(pki["a1"][1]), what
        assert vhost_certificate(snapshot, "a.example") == "default/a-tls"
        assert certificates(snapshot)["default/b-tls"] == b_certificate, "other hosts are unaffected"
        assert "pier_controller_tls_secrets_rejected 1" in controller.metrics()

    dump = controller.dump()
    before = dump.wait_for(1)[0]
    controller.write("a-tls.yaml", m.render(tls_secret("a-tls", *pki["a2"])))
    fixed = dump.wait_for(2, timeout=CHANGE_TIMEOUT_S)[1]
    assert int(fixed["version"]) > int(before["version"])
    assert certificates(fixed)["default/a-tls"]["certificate_chain_pem"] == pki["a2"][0]
    assert certificates(fixed)["default/b-tls"] == b_certificate
    assert "pier_controller_tls_secrets_rejected 0" in controller.metrics()

    # Deleted: the Secret's certificate goes with it (no history), the host stays a TLS host.
    (controller.manifests_dir / "a-tls.yaml").unlink()
    deleted = dump.wait_for(3, timeout=CHANGE_TIMEOUT_S)[2]
    assert "default/a-tls" not in certificates(deleted)
    assert vhost_certificate(deleted, "a.example") == ""
    route = next(v for v in deleted["virtual_hosts"] if v["host"] == "a.example")["routes"][0]
    assert route["redirect"]["ssl_redirect"] is True
    wait_until(lambda: "secret default/a-tls: not found; hosts a.example are served with the dataplane's "
                       "self-signed certificate" in log(), CHANGE_TIMEOUT_S, "the not-found warning")


def test_default_tls_secret_is_used_once_it_is_usable(launcher, tmp_path, pki):
    controller = TlsController(launcher, tmp_path, ["--default-tls-secret", "default/wild"])
    write_app(controller)
    controller.write("b-tls.yaml", m.render(tls_secret("b-tls", *pki["b"])))
    controller.start()

    dump = controller.dump()
    first = dump.wait_for(1)[0]
    assert first.get("default_certificate", "") == ""
    assert "default/wild" not in certificates(first)
    # a.example names a Secret that does not exist: served with the default (here the dataplane's).
    assert vhost_certificate(first, "a.example") == ""
    log = controller.process.log_text
    wait_until(lambda: "default TLS secret default/wild: not found; the dataplane's self-signed certificate is used"
               in log(), CHANGE_TIMEOUT_S, "the missing default secret in the log")
    assert "pier_controller_tls_secrets_rejected 2" in controller.metrics()

    controller.write("wild.yaml", m.render(tls_secret("wild", *pki["wild"])))
    second = dump.wait_for(2, timeout=CHANGE_TIMEOUT_S)[1]
    assert second["default_certificate"] == "default/wild"
    assert certificates(second)["default/wild"]["certificate_chain_pem"] == pki["wild"][0]
    assert "sni_names" not in certificates(second)["default/wild"]
    assert vhost_certificate(second, "a.example") == "default/wild"
    assert vhost_certificate(second, "b.example") == "default/b-tls"
    wait_until(lambda: "default TLS secret default/wild is in use" in log(), CHANGE_TIMEOUT_S, "the recovery log line")
    assert "pier_controller_tls_secrets_rejected 1" in controller.metrics()


@pytest.mark.parametrize("args, message", [
    (["--default-tls-secret", "noslash"], "--default-tls-secret must be NAMESPACE/NAME"),
    (["--default-tls-secret", "a/b/c"], "--default-tls-secret must be NAMESPACE/NAME"),
    (["--namespace", "apps", "--default-tls-secret", "pier-system/wildcard"], "outside --namespace apps"),
    (["--default-backend-service", "noslash"], "--default-backend-service must be NAMESPACE/NAME"),
    (["--namespace", "apps", "--default-backend-service", "pier-system/errors"],
     "--default-backend-service pier-system/errors is outside --namespace apps"),
])
def test_bad_default_tls_secret_or_backend_service_flag_exits_2(args, message):
    result = subprocess.run([str(binary("pier-controller")), "--source=manifests", "--manifests", ".", *args],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
