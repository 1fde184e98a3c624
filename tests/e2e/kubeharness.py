"""A real etcd + kube-apiserver on loopback for Pier's end-to-end tests.

No kubelet, scheduler or controller-manager runs: an ingress controller only needs
the API, and tests create EndpointSlices themselves. Binaries come from
tools/kube-tools.sh (built once, cached by version); etcd is the cached one if the
script built it, else the system's.

    with KubeCluster() as cluster:
        cluster.kubectl("apply", "-f", "-", input=manifest)
        kubeconfig = cluster.token_kubeconfig("pier", "pier-system")

Everything listens on 127.0.0.1 only. Each process runs in its own process group,
and every group is killed when the cluster stops, also on exceptions; a Linux
parent-death signal covers the case where the Python process itself is killed.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

# One port picker for the whole run (it remembers what it handed out): the kube processes here
# and the Pier processes of tests/integration's harness share it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from harness import free_port  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
KUBE_TOOLS = REPO_ROOT / "tools" / "kube-tools.sh"

READY_TIMEOUT_S = 90.0
ETCD_READY_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
POLL_INTERVAL_S = 0.25
KUBECTL_TIMEOUT_S = 60.0
TOOLS_BUILD_TIMEOUT_S = 3 * 3600.0
LOG_TAIL_LINES = 40
START_ATTEMPTS = 3  # a port picked free can be taken before the server binds it

SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc"
ADMIN_USER = "pier-e2e-admin"


class KubeToolsUnavailable(RuntimeError):
    """tools/kube-tools.sh could not produce the binaries."""


class ClusterStartError(RuntimeError):
    """etcd or kube-apiserver did not come up; the message carries the log tail."""


class KubectlError(subprocess.CalledProcessError):
    def __str__(self) -> str:
        return (f"kubectl {' '.join(self.cmd[3:])} exited {self.returncode}: "
                f"{(self.stderr or '').strip()}")


class HelmError(KubectlError):
    def __str__(self) -> str:
        return (f"helm {' '.join(self.cmd[2:])} exited {self.returncode}: "
                f"{(self.stderr or '').strip()}")


def kube_tools_bin_dir(build: bool = True) -> Path:
    """Returns the directory holding kube-apiserver, kubectl and helm.

    With build=True the tools script builds whatever is missing (the first time this
    takes many minutes); with build=False it only looks in the cache.
    """
    env_dir = os.environ.get("PIER_KUBE_BIN_DIR")
    if env_dir:
        return Path(env_dir)
    command = "ensure" if build else "path"
    try:
        result = subprocess.run(["bash", str(KUBE_TOOLS), command], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                timeout=TOOLS_BUILD_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise KubeToolsUnavailable(f"{KUBE_TOOLS} {command}: {error}") from error
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        tail = "\n".join(result.stderr.strip().splitlines()[-LOG_TAIL_LINES:])
        raise KubeToolsUnavailable(
            f"{KUBE_TOOLS} {command} exited {result.returncode}:\n{tail}")
    bin_dir = Path(lines[-1])
    for name in ("kube-apiserver", "kubectl"):
        if not os.access(bin_dir / name, os.X_OK):
            raise KubeToolsUnavailable(f"{bin_dir / name} missing after {KUBE_TOOLS} {command}")
    return bin_dir


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it if the harness process dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except OSError:
        pass


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


class _Process:
    """A server process in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict | None = None):
        self.name = name
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, env=env,
                                          start_new_session=True,
                                          preexec_fn=_die_with_parent)
        self.pgid = self.popen.pid  # start_new_session: the child leads its own group

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        """SIGTERM to the whole group, SIGKILL after a grace period."""
        for sig, wait_s in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                break  # the group is gone
            try:
                self.popen.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
            # The leader exited; children it left behind in the group go too.
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        if self.popen.poll() is None:
            self.popen.wait()


class KubeCluster:
    """etcd + kube-apiserver on 127.0.0.1, with an admin kubeconfig.

    Attributes once started: workdir, server_url, kubeconfig_path, ca_path,
    admin_cert_path, admin_key_path, etcd_endpoint, bin_dir.
    """

    def __init__(self, bin_dir: Path | str | None = None, *,
                 ready_timeout: float = READY_TIMEOUT_S,
                 extra_apiserver_args: tuple[str, ...] | list[str] = (),
                 keep_workdir: bool | None = None):
        self.bin_dir = Path(bin_dir) if bin_dir else None
        self.ready_timeout = ready_timeout
        self.extra_apiserver_args = list(extra_apiserver_args)
        if keep_workdir is None:
            keep_workdir = os.environ.get("PIER_KEEP_KUBE_WORKDIR") == "1"
        self.keep_workdir = keep_workdir
        self.workdir: Path | None = None
        self.server_url = ""
        self.kubeconfig_path: Path | None = None
        self.etcd_endpoint = ""
        self._etcd: _Process | None = None
        self._apiserver: _Process | None = None
        self._apiserver_port = 0
        self._atexit_registered = False

    # ----- lifecycle -----

    def __enter__(self) -> "KubeCluster":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        if self.workdir is not None:
            raise RuntimeError("KubeCluster already started")
        if self.bin_dir is None:
            self.bin_dir = kube_tools_bin_dir()
        self.kubectl_path = self._binary("kubectl")
        self.apiserver_path = self._binary("kube-apiserver")
        self.etcd_path = self._etcd_binary("etcd")
        self.etcdctl_path = self._etcd_binary("etcdctl")
        self.workdir = Path(tempfile.mkdtemp(prefix="pier-kube-"))
        atexit.register(self.stop)
        self._atexit_registered = True
        try:
            self._make_pki()
            self._start_etcd()
            self._apiserver_port = free_port()
            self._start_apiserver()
            self.kubeconfig_path = self.workdir / "admin.kubeconfig"
            self._write_kubeconfig(self.kubeconfig_path, {
                "client-certificate-data": _b64(self.admin_cert_path),
                "client-key-data": _b64(self.admin_key_path),
            }, ADMIN_USER)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kills apiserver then etcd (whole process groups); idempotent."""
        for attr in ("_apiserver", "_etcd"):
            process = getattr(self, attr)
            if process is not None:
                process.stop()
                setattr(self, attr, None)
        if self._atexit_registered:
            atexit.unregister(self.stop)
            self._atexit_registered = False
        if self.workdir is not None and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def restart_apiserver(self) -> None:
        """Stops kube-apiserver and starts it again on the same port; etcd keeps running,
        so all objects survive and the kubeconfig stays valid."""
        if self._apiserver is None:
            raise RuntimeError("apiserver is not running")
        self._apiserver.stop()
        self._apiserver = None
        self._start_apiserver(keep_port=True)

    # ----- helpers for tests -----

    def run_kubectl(self, *args: str, input: str | None = None,
                    kubeconfig: Path | str | None = None,
                    timeout: float = KUBECTL_TIMEOUT_S) -> subprocess.CompletedProcess:
        """Runs kubectl against this cluster; never raises on a non-zero exit."""
        argv = [str(self.kubectl_path), f"--kubeconfig={kubeconfig or self.kubeconfig_path}",
                f"--cache-dir={self.workdir / 'kubectl-cache'}", *args]
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        return subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout,
                              env=env, check=False)

    def kubectl(self, *args: str, input: str | None = None,
                kubeconfig: Path | str | None = None,
                timeout: float = KUBECTL_TIMEOUT_S) -> str:
        """Runs kubectl and returns its stdout; raises KubectlError on failure."""
        result = self.run_kubectl(*args, input=input, kubeconfig=kubeconfig, timeout=timeout)
        if result.returncode != 0:
            raise KubectlError(result.returncode, result.args, result.stdout, result.stderr)
        return result.stdout

    def helm(self, *args: str, input: str | None = None,
             kubeconfig: Path | str | None = None,
             timeout: float = KUBECTL_TIMEOUT_S) -> str:
        """Runs the cached helm against this cluster, its state kept in the workdir;
        returns stdout, raises HelmError on failure."""
        helm_home = self.workdir / "helm"
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env.update(HELM_CACHE_HOME=str(helm_home / "cache"),
                   HELM_CONFIG_HOME=str(helm_home / "config"),
                   HELM_DATA_HOME=str(helm_home / "data"))
        result = subprocess.run([str(self._binary("helm")),
                                 f"--kubeconfig={kubeconfig or self.kubeconfig_path}", *args],
                                input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, timeout=timeout, env=env, check=False)
        if result.returncode != 0:
            raise HelmError(result.returncode, result.args, result.stdout, result.stderr)
        return result.stdout

    def etcdctl(self, *args: str, timeout: float = KUBECTL_TIMEOUT_S) -> str:
        env = dict(os.environ, ETCDCTL_API="3")
        result = subprocess.run([str(self.etcdctl_path), f"--endpoints={self.etcd_endpoint}",
                                 *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, timeout=timeout, env=env, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"etcdctl {' '.join(args)} exited {result.returncode}: "
                               f"{result.stderr.strip()}")
        return result.stdout

    def etcd_revision(self) -> int:
        status = json.loads(self.etcdctl("endpoint", "status", "--write-out=json"))
        return int(status[0]["Status"]["header"]["revision"])

    def compact_etcd(self) -> int:
        """Compacts etcd to its current revision and returns that revision.

        Watches and exact-revision lists older than it then fail with 410 Gone once
        they reach etcd (the apiserver's watch cache may answer some on its own; see
        docs/testing-kube.md)."""
        revision = self.etcd_revision()
        self.etcdctl("compaction", "--physical", str(revision))
        return revision

    def create_token(self, service_account: str, namespace: str = "default",
                     duration: str = "1h") -> str:
        return self.kubectl("create", "token", service_account, "-n", namespace,
                            f"--duration={duration}").strip()

    def token_kubeconfig(self, service_account: str, namespace: str = "default",
                         duration: str = "1h") -> Path:
        """Creates the namespace and ServiceAccount if missing, issues a token for it
        (TokenRequest, via `kubectl create token`) and writes a kubeconfig using it.
        RBAC bindings are up to the caller."""
        self.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "List", "items": [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                {"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": {"name": service_account, "namespace": namespace}},
            ]}))
        token = self.create_token(service_account, namespace, duration)
        path = self.workdir / f"sa-{namespace}-{service_account}.kubeconfig"
        self._write_kubeconfig(path, {"token": token},
                               f"system:serviceaccount:{namespace}:{service_account}",
                               namespace=namespace)
        return path

    def apiserver_log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.workdir / "kube-apiserver.log", lines)

    def etcd_log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.workdir / "etcd.log", lines)

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
        """GET an API path with the admin certificate; returns (status, body)."""
        request = urllib.request.Request(self.server_url + path)
        try:
            with urllib.request.urlopen(request, context=self._admin_tls(),
                                        timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    # ----- internals -----

    def _binary(self, name: str) -> Path:
        path = self.bin_dir / name
        if not os.access(path, os.X_OK):
            raise KubeToolsUnavailable(f"{path} is missing; run tools/kube-tools.sh ensure")
        return path

    def _etcd_binary(self, name: str) -> Path:
        # A cached etcd (tools/kube-tools.sh etcd) wins over the system one.
        cached = self.bin_dir / name
        if os.access(cached, os.X_OK):
            return cached
        found = shutil.which(name)
        if not found:
            raise KubeToolsUnavailable(f"{name} not found (apt-get install etcd-server "
                                       "etcd-client, or tools/kube-tools.sh etcd)")
        return Path(found)

    def _openssl(self, *args: str) -> None:
        result = subprocess.run(["openssl", *args], cwd=self.workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, check=False)
        if result.returncode != 0:
            raise ClusterStartError(f"openssl {' '.join(args)} failed: {result.stderr.strip()}")

    def _make_pki(self) -> None:
        pki = self.workdir / "pki"
        pki.mkdir()
        # Our own config, so the system openssl.cnf adds nothing unexpected.
        (pki / "openssl.cnf").write_text(f"""\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:{_first_service_ip()}
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
""")
        cnf = "pki/openssl.cnf"
        self.ca_path = pki / "ca.crt"
        self._openssl("req", "-config", cnf, "-x509", "-new", "-nodes", "-newkey", "rsa:2048",
                      "-keyout", "pki/ca.key", "-out", "pki/ca.crt", "-days", "3650",
                      "-subj", "/CN=pier-e2e-ca", "-extensions", "ca")
        for name, subject, extensions in (
                ("apiserver", "/CN=kube-apiserver", "server"),
                ("admin", f"/O=system:masters/CN={ADMIN_USER}", "client")):
            self._openssl("req", "-config", cnf, "-new", "-nodes", "-newkey", "rsa:2048",
                          "-keyout", f"pki/{name}.key", "-out", f"pki/{name}.csr",
                          "-subj", subject)
            self._openssl("x509", "-req", "-in", f"pki/{name}.csr", "-CA", "pki/ca.crt",
                          "-CAkey", "pki/ca.key", "-CAcreateserial", "-days", "365",
                          "-extfile", cnf, "-extensions", extensions,
                          "-out", f"pki/{name}.crt")
        self.admin_cert_path = pki / "admin.crt"
        self.admin_key_path = pki / "admin.key"
        self._openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                      "-out", "pki/sa.key")
        self._openssl("pkey", "-in", "pki/sa.key", "-pubout", "-out", "pki/sa.pub")

    def _start_etcd(self) -> None:
        last_error = None
        for _ in range(START_ATTEMPTS):
            client_port, peer_port = free_port(), free_port()
            self.etcd_endpoint = f"http://127.0.0.1:{client_port}"
            peer_url = f"http://127.0.0.1:{peer_port}"
            data_dir = self.workdir / "etcd-data"
            shutil.rmtree(data_dir, ignore_errors=True)
            self._etcd = _Process("etcd", [
                str(self.etcd_path),
                "--name=pier-e2e",
                f"--data-dir={data_dir}",
                f"--listen-client-urls={self.etcd_endpoint}",
                f"--advertise-client-urls={self.etcd_endpoint}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=pier-e2e={peer_url}",
                "--initial-cluster-state=new",
            ], self.workdir / "etcd.log")
            try:
                self._wait_etcd_healthy()
                return
            except ClusterStartError as error:
                last_error = error
                self._etcd.stop()
                self._etcd = None
                if "address already in use" not in _tail(self.workdir / "etcd.log"):
                    break
        raise last_error

    def _wait_etcd_healthy(self) -> None:
        deadline = time.monotonic() + ETCD_READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self._etcd.running():
                raise ClusterStartError(
                    f"etcd exited with {self._etcd.popen.returncode}:\n{self.etcd_log_tail()}")
            try:
                with urllib.request.urlopen(self.etcd_endpoint + "/health", timeout=2) as reply:
                    if json.loads(reply.read()).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            time.sleep(POLL_INTERVAL_S)
        raise ClusterStartError(f"etcd not healthy after {ETCD_READY_TIMEOUT_S:.0f} s:\n"
                                f"{self.etcd_log_tail()}")

    def _apiserver_argv(self) -> list[str]:
        pki = self.workdir / "pki"
        return [
            str(self.apiserver_path),
            f"--etcd-servers={self.etcd_endpoint}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self._apiserver_port}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--disable-admission-plugins=ServiceAccount",
            # No nodes or pods run, and Endpoints may not hold loopback addresses, so the
            # apiserver does not maintain the `kubernetes` Service's endpoints.
            "--endpoint-reconciler-type=none",
            # Without --cert-dir it would try /var/run/kubernetes for generated certs.
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            "--profiling=false",
            *self.extra_apiserver_args,
        ]

    def _start_apiserver(self, keep_port: bool = False) -> None:
        last_error = None
        for _ in range(START_ATTEMPTS):
            self.server_url = f"https://127.0.0.1:{self._apiserver_port}"
            self._apiserver = _Process("kube-apiserver", self._apiserver_argv(),
                                       self.workdir / "kube-apiserver.log")
            try:
                self._wait_apiserver_ready()
                return
            except ClusterStartError as error:
                last_error = error
                self._apiserver.stop()
                self._apiserver = None
                if keep_port or "address already in use" not in self.apiserver_log_tail():
                    break
                self._apiserver_port = free_port()
        raise last_error

    def _admin_tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        context.load_cert_chain(str(self.admin_cert_path), str(self.admin_key_path))
        return context

    def _wait_apiserver_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        context = self._admin_tls()
        last = "no answer yet"
        while time.monotonic() < deadline:
            if not self._apiserver.running():
                raise ClusterStartError(
                    f"kube-apiserver exited with {self._apiserver.popen.returncode}; "
                    f"log tail:\n{self.apiserver_log_tail()}")
            try:
                with urllib.request.urlopen(self.server_url + "/readyz", context=context,
                                            timeout=5) as reply:
                    if reply.status == 200:
                        return
                    last = f"HTTP {reply.status}"
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}: {error.read()[-2000:].decode(errors='replace')}"
            except OSError as error:
                last = str(error)
            time.sleep(POLL_INTERVAL_S)
        raise ClusterStartError(
            f"kube-apiserver not ready after {self.ready_timeout:.0f} s (last /readyz: {last}); "
            f"log tail:\n{self.apiserver_log_tail()}")

    def _write_kubeconfig(self, path: Path, user_fields: dict, user: str,
                          namespace: str = "default") -> None:
        # JSON is valid YAML, and kubectl and client libraries read it.
        config = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "pier-e2e", "cluster": {
                "server": self.server_url,
                "certificate-authority-data": _b64(self.ca_path)}}],
            "users": [{"name": user, "user": user_fields}],
            "contexts": [{"name": "pier-e2e", "context": {
                "cluster": "pier-e2e", "user": user, "namespace": namespace}}],
            "current-context": "pier-e2e",
        }
        path.write_text(json.dumps(config, indent=2) + "\n")
        path.chmod(0o600)


def _first_service_ip() -> str:
    """The `kubernetes` Service's ClusterIP: first address of the service range."""
    network = SERVICE_CLUSTER_IP_RANGE.split("/")[0].split(".")
    network[-1] = str(int(network[-1]) + 1)
    return ".".join(network)
