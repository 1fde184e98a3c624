"""Real nginx, for the tests that compare Pier with it: one server block on a free loopback port,
in the foreground (no daemon, no master), logging into the test's directory; or, for TCP
proxying (ssl_preread), one stream block."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import textwrap
from pathlib import Path
from typing import Optional

from harness import free_port, wait_until
from rawhttp import request

NGINX = shutil.which("nginx")


def auth_location(auth: int | str, extra: str = "") -> str:
    """The internal location `/_auth` that `auth_request /_auth;` asks, as ingress-nginx writes
    it: the auth service's /check, without the request's body; `extra` goes inside it. `auth` is
    the service's port on 127.0.0.1, or the name of an upstream block (auth-keepalive)."""
    target = auth if isinstance(auth, str) else f"127.0.0.1:{auth}"
    return ("location = /_auth {\n    internal;\n"
            f"    proxy_pass http://{target}/check;\n"
            "    proxy_pass_request_body off;\n    proxy_set_header Content-Length \"\";\n"
            + textwrap.indent(textwrap.dedent(extra), "    ") + "}\n")

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


_CLIENT_CERTIFICATE_SERVER = """\
listen 127.0.0.1:{tls_port} ssl;
ssl_certificate {server_cert};
ssl_certificate_key {server_key};
ssl_client_certificate {client_ca};
ssl_verify_client {mode};
ssl_verify_depth {depth};
{crl}location / {{
    proxy_pass http://127.0.0.1:{upstream};
    proxy_set_header Host $host;
    proxy_set_header ssl-client-verify $ssl_client_verify;
    proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;
    proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;
    proxy_set_header ssl-client-cert $ssl_client_escaped_cert;
}}
"""


def client_certificate_server(tls_port: int, server_cert: Path, server_key: Path, client_ca: Path, mode: str,
                              upstream: int, depth: int = 1, crl: Optional[Path] = None) -> str:
    """A server block (for start_nginx) as ingress-nginx configures one for auth-tls-secret,
    -verify-client `mode`, -verify-depth `depth` and -pass-certificate-to-upstream, with ssl_crl
    `crl` when the Secret has a ca.crl: TLS on `tls_port`, proxying to `upstream` with the
    ssl-client-* fields."""
    return _CLIENT_CERTIFICATE_SERVER.format(
        tls_port=tls_port, server_cert=server_cert, server_key=server_key, client_ca=client_ca, mode=mode,
        depth=depth, crl=f"ssl_crl {crl};\n" if crl else "", upstream=upstream)


# -- stream (TCP) proxying, for the ssl-passthrough comparison ----------------------------------

_STREAM_CONF = """\
{load_module}
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
stream {{
{stream}
}}
"""

_MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/share/nginx/modules")


def stream_preread_support() -> tuple[Optional[str], str]:
    """How this nginx gets a stream module with ssl_preread: ("", why) when it is built in,
    ("load_module <path>;", why) when it is an installed dynamic module, (None, why not) when
    there is no nginx, the module was not built, or its dynamic module is not installed."""
    if NGINX is None:
        return None, "nginx is not installed"
    try:
        built = subprocess.run([NGINX, "-V"], capture_output=True, text=True, timeout=10).stderr
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"nginx -V failed: {error}"
    if "--with-stream_ssl_preread_module" not in built:
        return None, "this nginx was built without --with-stream_ssl_preread_module"
    if "--with-stream=dynamic" not in built:
        if "--with-stream" in built.split():
            return "", "stream is built in"
        return None, "this nginx was built without the stream module"
    directories = list(_MODULE_DIRS)
    match = re.search(r"--modules-path=(\S+)", built)
    if match and match.group(1) not in directories:
        directories.insert(0, match.group(1))
    for directory in directories:
        module = Path(directory) / "ngx_stream_module.so"
        if module.is_file():
            return f"load_module {module};", f"dynamic module {module}"
    return None, ("nginx's stream module is dynamic (--with-stream=dynamic) and ngx_stream_module.so is not "
                  f"installed in {' or '.join(directories)} (Debian: package libnginx-mod-stream)")


def start_nginx_stream(launcher, directory: Path, stream: str, port: int, load_module: str = ""):
    """Starts nginx with `stream` as the body of its stream block (and `load_module`, from
    stream_preread_support(), first); returns the process once `port` accepts connections."""
    conf = directory / "nginx-stream.conf"
    conf.write_text(_STREAM_CONF.format(load_module=load_module, dir=directory,
                                        stream=textwrap.indent(textwrap.dedent(stream), " " * 4)))
    process = launcher.start("nginx-stream", [NGINX, "-p", str(directory), "-c", str(conf)])

    def up() -> bool:
        process.check_alive()
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_until(up, 10, "nginx (stream) listening")
    return process
