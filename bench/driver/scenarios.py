"""The seven scenarios of issue #10. Each takes a running target and returns its figures."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import load
from procs import Process, http_get, rss_bytes
from targets import Pier, Target, churn_ingress, write_atomically

# Idle WebSockets settle (kernel buffers, allocator) before their memory is read.
IDLE_SETTLE_S = 1.0
# How long scenario 6 waits after its last edit for the debounced snapshot to be applied.
CHURN_SETTLE_S = 3.0
EDIT_POLL_S = 0.005
EDIT_TIMEOUT_S = 10.0
# Scenario 4 leaves about two sockets in TIME_WAIT per handshake (one per leg, 60 s each); when
# the last target's run left more than half of the ephemeral ports waiting, the next one would
# measure failed connects (EADDRNOTAVAIL) instead of the proxy. It waits, at most this long.
TIME_WAIT_DRAIN_S = 90.0


@dataclass
class Sizes:
    http_s: int = 8
    wrk_connections: int = 50
    echo_connections: int = 1000
    echo_s: float = 8
    message_bytes: int = 64
    stream_connections: int = 16
    stream_bytes: int = 16384
    stream_s: float = 8
    handshake_concurrency: int = 16
    handshake_s: float = 6
    idle_connections: int = 10000
    churn_per_s: int = 100
    churn_s: float = 8
    scale_ingresses: int = 10000
    scale_services: int = 20000
    scale_endpoints: int = 50000
    scale_edits: int = 20


QUICK = Sizes(http_s=1, wrk_connections=4, echo_connections=20, echo_s=1, stream_connections=2, stream_s=1,
              handshake_concurrency=2, handshake_s=1, idle_connections=50, churn_s=1.5, scale_ingresses=100,
              scale_services=200, scale_endpoints=500, scale_edits=3)


@dataclass
class Context:
    bin_dir: Path
    work: Path
    sizes: Sizes
    threads: int  # proxy worker threads; wrk and the load generator get the same
    baseline_bin_dir: Path | None = None  # another Pier build, run as target pier-base


def add_proxy_cpu(result: dict, pids: list[int], before: tuple[float, float], count: int, unit: str) -> None:
    """The proxy's CPU per operation since `before` (load.cpu_times), in all and in user space:
    proxy_cpu_us_per_<unit> and proxy_user_cpu_us_per_<unit>. Nothing when there is no proxy or
    nothing was done."""
    if not pids or not count:
        return
    user, system = load.cpu_times(pids)
    user -= before[0]
    system -= before[1]
    result[f"proxy_cpu_us_per_{unit}"] = (user + system) * 1e6 / count
    result[f"proxy_user_cpu_us_per_{unit}"] = user * 1e6 / count


def http_keepalive(ctx: Context, target: Target) -> dict:
    pids = target.proxy_pids()
    before = load.cpu_times(pids)
    result = load.wrk(target.http_url("/"), ctx.sizes.wrk_connections, ctx.sizes.http_s, ctx.threads)
    add_proxy_cpu(result, pids, before, result["requests"], "request")
    return result


def _echo(ctx: Context, target: Target) -> dict:
    pids = target.proxy_pids()
    before = load.cpu_times(pids)
    result = load.loadgen(ctx.bin_dir, "echo", target.ws_url(), ctx.sizes.echo_connections, ctx.sizes.echo_s,
                          size=ctx.sizes.message_bytes, threads=ctx.threads)
    # An echo crosses the proxy twice: one message each way.
    add_proxy_cpu(result, pids, before, 2 * result["messages"], "message")
    return result


def websocket_echo(ctx: Context, target: Target) -> dict:
    return _echo(ctx, target)


def websocket_stream(ctx: Context, target: Target) -> dict:
    return load.loadgen(ctx.bin_dir, "stream", target.ws_url(), ctx.sizes.stream_connections, ctx.sizes.stream_s,
                        size=ctx.sizes.stream_bytes, window=8, threads=ctx.threads)


def _time_wait_sockets() -> int:
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            fields = line.split()
            return int(fields[fields.index("tw") + 1])
    return 0


def _ephemeral_ports() -> int:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(high) - int(low) + 1


def wait_for_time_wait_drain(limit: int, timeout_s: float) -> None:
    """Waits (at most timeout_s) until fewer than `limit` TCP sockets are in TIME_WAIT."""
    deadline = time.monotonic() + timeout_s
    waiting = _time_wait_sockets()
    if waiting < limit:
        return
    print(f"  {waiting} sockets in TIME_WAIT (limit {limit}): waiting for them to expire", flush=True)
    while waiting >= limit and time.monotonic() < deadline:
        time.sleep(1)
        waiting = _time_wait_sockets()


def handshakes(ctx: Context, target: Target) -> dict:
    # Only the full run makes enough connections to matter; --quick never waits.
    if ctx.sizes.handshake_s >= Sizes.handshake_s:
        wait_for_time_wait_drain(_ephemeral_ports() // 2, TIME_WAIT_DRAIN_S)
    pids = target.proxy_pids()
    before = load.cpu_times(pids)
    result = load.loadgen(ctx.bin_dir, "handshake", target.ws_url(), ctx.sizes.handshake_concurrency,
                          ctx.sizes.handshake_s, threads=ctx.threads)
    # Each counted handshake is a whole connection: open, upgrade, close handshake, close.
    add_proxy_cpu(result, pids, before, result["messages"], "handshake")
    return result


def idle_connections(ctx: Context, target: Target, count: int) -> dict:
    pids = target.proxy_pids()
    before = rss_bytes(pids)
    argv = [str(ctx.bin_dir / "pier-loadgen"), "idle", "--url", target.ws_url(), "-c", str(count), "-t",
            str(ctx.threads), "--hold-stdin", "--json", "--timeout", "30"]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # {"event":"open",...} once every connection is open
        if not first:
            raise RuntimeError(f"pier-loadgen idle ended early: {proc.stderr.read()}")
        time.sleep(IDLE_SETTLE_S)
        held = rss_bytes(target.proxy_pids())  # nginx may have started no new workers, but look again
        out, err = proc.communicate(timeout=load.TOOL_GRACE_S)  # closes stdin: the hold ends
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    result = load.parse_loadgen(out, err)
    if pids:
        result["rss_before_bytes"] = before
        result["rss_held_bytes"] = held
        result["rss_per_connection_bytes"] = (held - before) / max(1, result["opened"])
    return result


def config_churn(ctx: Context, target: Pier) -> dict:
    """Scenario 2 while the churn Ingress is rewritten churn_per_s times a second."""
    path = target.manifests / "churn.yaml"
    stop = threading.Event()
    edits = [0]

    def churn() -> None:
        interval = 1.0 / ctx.sizes.churn_per_s
        next_at = time.monotonic()
        while not stop.is_set():
            edits[0] += 1
            write_atomically(path, churn_ingress(edits[0]))
            next_at += interval
            stop.wait(max(0.0, next_at - time.monotonic()))

    applies_before = target.dataplane_metric("pier_config_applies_total") or 0
    thread = threading.Thread(target=churn, daemon=True)
    thread.start()
    try:
        result = _echo(ctx, target)
    finally:
        stop.set()
        thread.join()
    # The controller debounces (100 ms quiet, 500 ms at most), so the snapshot for the last
    # edits lands shortly after they stop; a short run may not have applied any before that.
    deadline = time.monotonic() + CHURN_SETTLE_S
    while True:
        applies = (target.dataplane_metric("pier_config_applies_total") or 0) - applies_before
        if applies > 0 or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    result["manifest_edits"] = edits[0]
    result["snapshots_applied"] = applies
    result["edits_per_s"] = edits[0] / ctx.sizes.echo_s
    return result


# ----------------------------------------------------------------------------------------------
# Scenario 7: the controller with a large cluster's worth of objects.

OBJECTS_PER_FILE = 1000


def _ingress(i: int, services: int) -> str:
    a, b = (2 * i) % services, (2 * i + 1) % services
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app-{i}
  namespace: scale
spec:
  ingressClassName: pier
  rules:
  - host: app-{i}.example
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend:
          service:
            name: svc-{a}
            port:
              number: 80
      - path: /ws
        pathType: Prefix
        backend:
          service:
            name: svc-{b}
            port:
              number: 80
"""


def _service(i: int) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: scale
spec:
  ports:
  - name: http
    port: 80
    targetPort: 8080
"""


def _slice(i: int, first: int, count: int) -> str:
    addresses = "\n".join(
        f"- addresses: [\"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}\"]\n  conditions:\n    ready: true"
        for n in range(first, first + count))
    return f"""apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: svc-{i}-1
  namespace: scale
  labels:
    kubernetes.io/service-name: svc-{i}
addressType: IPv4
ports:
- name: http
  port: 8080
endpoints:
{addresses}
"""


def _write_chunked(folder: Path, prefix: str, documents: list[str]) -> None:
    for start in range(0, len(documents), OBJECTS_PER_FILE):
        (folder / f"{prefix}-{start // OBJECTS_PER_FILE:04d}.yaml").write_text(
            "---\n".join(documents[start:start + OBJECTS_PER_FILE]))


def generate_scale_manifests(folder: Path, sizes: Sizes, backend_port: int) -> None:
    from targets import pier_manifests

    folder.mkdir(parents=True, exist_ok=True)
    for name, text in pier_manifests(backend_port).items():
        write_atomically(folder / name, text)
    _write_chunked(folder, "ingresses", [_ingress(i, sizes.scale_services) for i in range(sizes.scale_ingresses)])
    _write_chunked(folder, "services", [_service(i) for i in range(sizes.scale_services)])
    per_service, extra = divmod(sizes.scale_endpoints, sizes.scale_services)
    slices, n = [], 0
    for i in range(sizes.scale_services):
        count = per_service + (1 if i < extra else 0)
        slices.append(_slice(i, n, count))
        n += count
    _write_chunked(folder, "endpointslices", slices)


def _edit_ingress(generation: int) -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: edit
  namespace: bench
spec:
  ingressClassName: pier
  rules:
  - host: edit.example
    http:
      paths:
      - path: /edit-{generation}
        pathType: Exact
        backend:
          service:
            name: backend
            port:
              number: 80
"""


def _status(port: int, host: str, path: str) -> int:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64)
        parts = head.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 else 0
    except (OSError, ValueError):
        return 0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))
    return ordered[index]


def controller_scale(ctx: Context, backend_port: int) -> dict:
    from procs import free_ports

    sizes = ctx.sizes
    folder = ctx.work / "scale-manifests"
    started = time.monotonic()
    generate_scale_manifests(folder, sizes, backend_port)
    write_atomically(folder / "edit.yaml", _edit_ingress(0))
    generated_s = time.monotonic() - started

    port, grpc, metrics, admin = free_ports(4)
    controller = Process("scale-controller", [
        str(ctx.bin_dir / "pier-controller"), "--source=manifests", "--manifests", str(folder),
        "--grpc-listen", f"127.0.0.1:{grpc}", "--metrics-listen", f"127.0.0.1:{metrics}", "--log-level", "warn"],
        ctx.work)
    t0 = time.monotonic()
    dataplane = Process("scale-dataplane", [
        str(ctx.bin_dir / "pier-dataplane"), "--controller", f"127.0.0.1:{grpc}", "--http-listen",
        f"127.0.0.1:{port}", "--https-listen", "", "--admin-listen", f"127.0.0.1:{admin}", "--threads",
        str(ctx.threads), "--node-id", "scale", "--log-level", "warn", "--drain-timeout", "1s"], ctx.work,
        stdout_to_null=True)
    try:
        deadline = t0 + 120
        first_snapshot_s = None
        while time.monotonic() < deadline:
            controller.check_alive()
            dataplane.check_alive()
            try:
                if http_get(admin, "/readyz", timeout_s=1)[0] == 200:
                    first_snapshot_s = time.monotonic() - t0
                    break
            except OSError:
                pass
            time.sleep(0.01)
        if first_snapshot_s is None:
            raise RuntimeError("no snapshot reached the dataplane within 120 s")
        if _status(port, "edit.example", "/edit-0") != 200:
            raise RuntimeError("the first snapshot does not route the edit Ingress")
        controller_rss = rss_bytes([controller.pid])
        dataplane_rss = rss_bytes([dataplane.pid])

        latencies = []
        for generation in range(1, sizes.scale_edits + 1):
            path = f"/edit-{generation}"
            written = time.monotonic()
            write_atomically(folder / "edit.yaml", _edit_ingress(generation))
            while _status(port, "edit.example", path) != 200:
                if time.monotonic() - written > EDIT_TIMEOUT_S:
                    raise RuntimeError(f"edit {generation} not applied within {EDIT_TIMEOUT_S:.0f}s")
                time.sleep(EDIT_POLL_S)
            latencies.append((time.monotonic() - written) * 1000)
        controller_peak = 0
        for line in Path(f"/proc/{controller.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                controller_peak = int(line.split()[1]) * 1024
        return {
            "ingresses": sizes.scale_ingresses,
            "services": sizes.scale_services,
            "endpoints": sizes.scale_endpoints,
            "manifests_generated_s": generated_s,
            "first_snapshot_s": first_snapshot_s,
            "controller_rss_bytes": controller_rss,
            "controller_peak_rss_bytes": controller_peak,
            "dataplane_rss_bytes": dataplane_rss,
            "edit_to_applied_ms": {"count": len(latencies), "p50": _percentile(latencies, 0.5),
                                   "p99": _percentile(latencies, 0.99), "max": max(latencies)},
        }
    finally:
        dataplane.stop()
        controller.stop()


def pushed_churn(ctx: Context, backend_port: int) -> dict:
    """Scenario 2 on a dataplane fed by pier-churn-controller (tests/tools), which pushes a new
    snapshot every 1/churn_per_s seconds after the previous one is acknowledged: the real
    controller coalesces bursts (debounce), so only this reaches churn_per_s applied snapshots."""
    import signal

    from procs import free_ports, wait_for_port

    sizes = ctx.sizes
    snapshots = int(sizes.churn_per_s * sizes.echo_s * 2)  # more than the run needs
    port, grpc, admin = free_ports(3)
    churn = Process("churn-controller", [
        str(ctx.bin_dir / "pier-churn-controller"), "--port", str(grpc), "--backend", f"127.0.0.1:{backend_port}",
        "--snapshots", str(snapshots), "--interval-ms", str(int(1000 / sizes.churn_per_s))], ctx.work)
    dataplane = None
    try:
        wait_for_port(grpc, 30, churn)
        dataplane = Process("churn-dataplane", [
            str(ctx.bin_dir / "pier-dataplane"), "--controller", f"127.0.0.1:{grpc}", "--http-listen",
            f"127.0.0.1:{port}", "--https-listen", "", "--admin-listen", f"127.0.0.1:{admin}", "--threads",
            str(ctx.threads), "--node-id", "churn", "--log-level", "warn", "--drain-timeout", "1s"], ctx.work,
            stdout_to_null=True)
        deadline = time.monotonic() + 30
        while True:
            dataplane.check_alive()
            try:
                if http_get(admin, "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the churn dataplane was not ready after 30 s")
            time.sleep(0.05)

        def applies() -> float:
            from targets import prometheus_value

            return prometheus_value(http_get(admin, "/metrics")[1], "pier_config_applies_total") or 0

        argv = [str(ctx.bin_dir / "pier-loadgen"), "echo", "--url", f"ws://127.0.0.1:{port}/ws", "-c",
                str(sizes.echo_connections), "-d", str(sizes.echo_s), "-s", str(sizes.message_bytes), "-t",
                str(ctx.threads), "--json"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if not proc.stdout.readline():  # every connection open: start the churn now
                raise RuntimeError(f"pier-loadgen echo ended early: {proc.stderr.read()}")
            before, started = applies(), time.monotonic()
            churn.popen.send_signal(signal.SIGUSR1)
            out, err = proc.communicate(timeout=sizes.echo_s + load.TOOL_GRACE_S)
            after, elapsed = applies(), time.monotonic() - started
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        result = load.parse_loadgen(out, err)
        result["snapshots_applied"] = after - before
        result["snapshots_per_s"] = (after - before) / elapsed
        return result
    finally:
        if dataplane is not None:
            dataplane.stop()
        churn.stop()

