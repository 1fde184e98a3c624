"""What the benchmark measures: the backend direct, and Pier, nginx and HAProxy in front of it.

Every proxy gets the same job: plain HTTP on one port, everything to one backend with upstream
keep-alive, WebSocket upgrades passed through with hour-long timeouts (the classic recipe in
SCENARIOS.md), the same number of worker threads or processes, and an access log line per
request written to /dev/null (Pier always writes one; the others are configured to match).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from procs import Process, free_ports, http_get, require_tool, tree, wait_for_port

READY_TIMEOUT_S = 30.0


class Backend:
    def __init__(self, bin_dir: Path, work: Path, threads: int):
        (self.port,) = free_ports(1)
        self.proc = Process("backend", [str(bin_dir / "pier-bench-backend"), "--listen", f"127.0.0.1:{self.port}",
                                        "--threads", str(threads)], work)
        wait_for_port(self.port, READY_TIMEOUT_S, self.proc)

    def stop(self) -> None:
        self.proc.stop()


class Target:
    name = ""
    port = 0

    def ws_url(self, path: str = "/ws") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def http_url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def proxy_pids(self) -> list[int]:
        """Every process whose memory counts as the proxy's (empty: nothing in between)."""
        return []

    def stop(self) -> None:
        pass


class Direct(Target):
    name = "direct"

    def __init__(self, backend: Backend):
        self.port = backend.port


def pier_manifests(backend_port: int, churn_generation: int | None = None) -> dict[str, str]:
    """The Pier objects: everything on / to the backend, and optionally the churn Ingress."""
    files = {
        "class.yaml": """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: pier
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: pier.dev/ingress-controller
""",
        "service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: bench
spec:
  ports:
  - name: http
    port: 80
    targetPort: http
""",
        "endpoints.yaml": f"""apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-1
  namespace: bench
  labels:
    kubernetes.io/service-name: backend
addressType: IPv4
ports:
- name: http
  port: {backend_port}
endpoints:
- addresses: ["127.0.0.1"]
  conditions:
    ready: true
""",
        "ingress.yaml": """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bench
  namespace: bench
  annotations:
    pier.dev/websocket-idle-timeout: "3600s"
    pier.dev/proxy-read-timeout: "3600"
    pier.dev/proxy-send-timeout: "3600"
spec:
  ingressClassName: pier
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: backend
            port:
              number: 80
""",
    }
    if churn_generation is not None:
        files["churn.yaml"] = churn_ingress(churn_generation)
    return files


def churn_ingress(generation: int) -> str:
    """A second Ingress whose path changes every generation: each edit is a new snapshot."""
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: churn
  namespace: bench
spec:
  ingressClassName: pier
  rules:
  - host: churn.example
    http:
      paths:
      - path: /churn-{generation}
        pathType: Prefix
        backend:
          service:
            name: backend
            port:
              number: 80
"""


def write_atomically(path: Path, text: str) -> None:
    # Rename, so the controller never reads half a file.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.rename(path)


def prometheus_value(text: str, name: str) -> float | None:
    """The sum of a metric's samples in Prometheus text format (None when absent)."""
    total, seen = 0.0, False
    for line in text.splitlines():
        if line.startswith(name) and (len(line) == len(name) or line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
            seen = True
    return total if seen else None


class Pier(Target):
    name = "pier"

    def __init__(self, bin_dir: Path, work: Path, backend: Backend, threads: int, manifests: Path | None = None):
        self.work = work
        self.manifests = manifests or work / "pier-manifests"
        if manifests is None:
            self.manifests.mkdir(parents=True, exist_ok=True)
            for name, text in pier_manifests(backend.port).items():
                write_atomically(self.manifests / name, text)
        self.port, grpc, metrics, self.admin_port = free_ports(4)
        self.controller_metrics_port = metrics
        self.started = time.monotonic()
        self.controller = Process("pier-controller", [
            str(bin_dir / "pier-controller"), "--source=manifests", "--manifests", str(self.manifests),
            "--grpc-listen", f"127.0.0.1:{grpc}", "--metrics-listen", f"127.0.0.1:{metrics}",
            "--log-level", "warn"], work)
        self.dataplane = Process("pier-dataplane", [
            str(bin_dir / "pier-dataplane"), "--controller", f"127.0.0.1:{grpc}",
            "--http-listen", f"127.0.0.1:{self.port}", "--https-listen", "", "--admin-listen",
            f"127.0.0.1:{self.admin_port}", "--threads", str(threads), "--node-id", "bench",
            "--log-level", "warn", "--drain-timeout", "1s"], work, stdout_to_null=True)
        self.wait_ready()

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.controller.check_alive()
            self.dataplane.check_alive()
            try:
                if http_get(self.admin_port, "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the Pier dataplane was not ready after {timeout_s:.0f}s:\n{self.dataplane.log_tail()}")

    def dataplane_metric(self, name: str) -> float | None:
        return prometheus_value(http_get(self.admin_port, "/metrics")[1], name)

    def proxy_pids(self) -> list[int]:
        return [self.dataplane.pid]

    def stop(self) -> None:
        self.dataplane.stop()
        self.controller.stop()


NGINX_CONF = """worker_processes {threads};
daemon off;
master_process on;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
worker_rlimit_nofile {nofile};
events {{
    worker_connections {connections};
}}
http {{
    access_log /dev/null;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    keepalive_requests 1000000;
    # Upgrade when the client asks; otherwise an empty Connection header, so the upstream
    # keep-alive pool is used (the recipe's "close" would defeat it).
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}
    upstream backend {{
        server 127.0.0.1:{backend_port};
        keepalive 128;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 5s;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
        }}
    }}
}}
"""


class Nginx(Target):
    name = "nginx"

    def __init__(self, work: Path, backend: Backend, threads: int, nofile: int):
        self.work = work / "nginx"
        self.work.mkdir(parents=True, exist_ok=True)
        (self.port,) = free_ports(1)
        self.conf = self.work / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(threads=threads, work=self.work, nofile=nofile,
                                               connections=nofile, backend_port=backend.port, port=self.port))
        self.binary = require_tool("nginx")
        # -p: nginx's own prefix, so nothing is written under /var.
        self.proc = Process("nginx", [self.binary, "-p", str(self.work), "-c", str(self.conf)], work)
        wait_for_port(self.port, READY_TIMEOUT_S, self.proc)

    def reload(self) -> None:
        subprocess.run([self.binary, "-p", str(self.work), "-c", str(self.conf), "-s", "reload"], check=True,
                       capture_output=True, timeout=10)

    def proxy_pids(self) -> list[int]:
        return tree(self.proc.pid)

    def stop(self) -> None:
        self.proc.stop()


HAPROXY_CONF = """global
    nbthread {threads}
    maxconn {maxconn}
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    option forwardfor
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 3600s
    timeout server 3600s
    timeout tunnel 3600s
    timeout http-keep-alive 60s
frontend bench
    bind 127.0.0.1:{port}
    maxconn {maxconn}
    default_backend backend
backend backend
    server backend 127.0.0.1:{backend_port} maxconn 0
"""


class Haproxy(Target):
    name = "haproxy"

    def __init__(self, work: Path, backend: Backend, threads: int, nofile: int):
        self.work = work / "haproxy"
        self.work.mkdir(parents=True, exist_ok=True)
        (self.port,) = free_ports(1)
        conf = self.work / "haproxy.cfg"
        # HAProxy sizes its descriptor table from maxconn (two per proxied connection).
        conf.write_text(HAPROXY_CONF.format(threads=threads, maxconn=max(1000, nofile // 2 - 100),
                                            port=self.port, backend_port=backend.port))
        self.proc = Process("haproxy", [require_tool("haproxy"), "-db", "-f", str(conf)], work,
                            stdout_to_null=True)
        wait_for_port(self.port, READY_TIMEOUT_S, self.proc)

    def proxy_pids(self) -> list[int]:
        return tree(self.proc.pid)

    def stop(self) -> None:
        self.proc.stop()


def version_of(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else "unknown"
