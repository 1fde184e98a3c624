"""Real nginx, for the tests that compare Pier with it: one server block on a free loopback port,
in the foreground (no daemon, no master), logging into the test's directory."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from harness import free_port, wait_until
from rawhttp import request

NGINX = shutil.which("nginx")

_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{http}
    server {{
        listen 127.0.0.1:{port};
{server}
    }}
}}
"""


def start_nginx(launcher, directory: Path, server: str, probe_host: str = "localhost", http: str = ""):
    """Starts nginx with `server` as the body of its one server block (and `http`, e.g. upstream
    blocks, before it in the http block); returns (process, port) once it answers. The caller
    (or the launcher, at the end of the test) stops it."""
    port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(_CONF.format(dir=directory, port=port, server=textwrap.indent(textwrap.dedent(server), " " * 8),
                                 http=textwrap.indent(textwrap.dedent(http), " " * 4)))
    process = launcher.start("nginx", [NGINX, "-p", str(directory), "-c", str(conf)])

    def up() -> bool:
        process.check_alive()
        request(port, "GET", "/", headers={"Host": probe_host}, timeout=1)
        return True

    wait_until(up, 10, "nginx listening")
    return process, port
