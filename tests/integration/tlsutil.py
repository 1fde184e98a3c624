"""TLS helpers for the integration tests: a throwaway CA, certificates and CRLs made with the
openssl CLI in the test's tmp dir (no key material is checked in), Secret and TLS Ingress
manifests, `openssl s_client` probes, an HTTPS client that sets SNI and Host independently, and
what the client-certificate tests (auth-tls-*) share; TLS (or plain TCP) servers in the test
process."""

from __future__ import annotations

import base64
import itertools
import re
import socket
import ssl
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator, Optional

import manifests as m
from rawhttp import Connection, Response, format_request
from recorder import RecordedRequest, Recorder

OPENSSL_TIMEOUT_S = 10


@dataclass
class KeyPair:
    cert: Path
    key: Path

    @property
    def cert_pem(self) -> str:
        return self.cert.read_text()

    @property
    def key_pem(self) -> str:
        return self.key.read_text()


def _run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=OPENSSL_TIMEOUT_S,
                          check=True, **kwargs)


def _ca_key_usage(crl_sign: bool) -> str:
    # A CRL's issuer needs cRLSign: OpenSSL refuses CRLs of a CA without it ("key usage does not
    # include CRL signing").
    return "keyUsage=critical,keyCertSign" + (",cRLSign" if crl_sign else "")


def make_ca(directory: Path, name: str = "Pier Test CA", crl_sign: bool = False) -> KeyPair:
    """A self-signed CA for `/CN=name`; `crl_sign`: one that may sign CRLs (make_crl)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = KeyPair(directory / f"{name.replace(' ', '-')}.crt", directory / f"{name.replace(' ', '-')}.key")
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", ca.key, "-out", ca.cert, "-days", "2", "-subj", f"/CN={name}",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", _ca_key_usage(crl_sign)])
    return ca


def issue(ca: KeyPair, directory: Path, common_name: str, dns_names: Iterable[str] = (),
          ip_names: Iterable[str] = (), tag: str = "") -> KeyPair:
    """A leaf for `common_name` (also its first DNS SAN unless dns_names says otherwise)."""
    stem = (common_name.replace("*", "wildcard") + tag).replace("/", "_")
    pair = KeyPair(directory / f"{stem}.crt", directory / f"{stem}.key")
    csr = directory / f"{stem}.csr"
    names = [f"DNS:{n}" for n in (list(dns_names) or [common_name])] + [f"IP:{ip}" for ip in ip_names]
    extensions = directory / f"{stem}.ext"
    extensions.write_text(f"subjectAltName={','.join(names)}\nbasicConstraints=CA:FALSE\n")
    _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", pair.key, "-out", csr, "-subj", f"/CN={common_name}"])
    _run(["openssl", "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial",
          "-out", pair.cert, "-days", "1", "-extfile", extensions])
    return pair


def _new_key_and_csr(directory: Path, stem: str, subject: str) -> tuple[Path, Path]:
    key, csr = directory / f"{stem}.key", directory / f"{stem}.csr"
    _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", key, "-out", csr, "-subj", subject])
    return key, csr


def make_intermediate_ca(parent: KeyPair, directory: Path, name: str, crl_sign: bool = False) -> KeyPair:
    """A CA for `/CN=name` signed by `parent` (its cert file holds only its own certificate);
    `crl_sign`: one that may sign CRLs (make_crl)."""
    stem = name.replace(" ", "-")
    key, csr = _new_key_and_csr(directory, stem, f"/CN={name}")
    extensions = directory / f"{stem}.ext"
    extensions.write_text(f"basicConstraints=critical,CA:TRUE\n{_ca_key_usage(crl_sign)}\n")
    pair = KeyPair(directory / f"{stem}.crt", key)
    _run(["openssl", "x509", "-req", "-in", csr, "-CA", parent.cert, "-CAkey", parent.key, "-CAcreateserial",
          "-out", pair.cert, "-days", "1", "-extfile", extensions])
    return pair


def issue_client(ca: KeyPair, directory: Path, stem: str, subject: str,
                 chain: Iterable[KeyPair] = ()) -> KeyPair:
    """A client certificate (extendedKeyUsage clientAuth) for `subject` in openssl's -subj form
    ("/O=Org/CN=name"), signed by `ca`. Its cert file holds the leaf, then each of `chain`'s
    certificates (the intermediates a client sends); `leaf_pem` is the leaf alone."""
    key, csr = _new_key_and_csr(directory, stem, subject)
    extensions = directory / f"{stem}.ext"
    extensions.write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                          "extendedKeyUsage=clientAuth\n")
    leaf = directory / f"{stem}.leaf.crt"
    _run(["openssl", "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial",
          "-out", leaf, "-days", "1", "-extfile", extensions])
    pair = KeyPair(directory / f"{stem}.crt", key)
    pair.cert.write_text(leaf.read_text() + "".join(c.cert_pem for c in chain))
    return pair


def self_signed_client(directory: Path, stem: str, subject: str) -> KeyPair:
    """A self-signed client certificate for `subject` (no CA vouches for it)."""
    pair = KeyPair(directory / f"{stem}.crt", directory / f"{stem}.key")
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", pair.key, "-out", pair.cert, "-days", "1", "-subj", subject,
          "-addext", "extendedKeyUsage=clientAuth"])
    return pair


_CRL_CONFIG = """\
[ca]
default_ca = crl
[crl]
database = {dir}/index.txt
crlnumber = {dir}/crlnumber
default_md = sha256
"""


def _crl_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%SZ")


def make_crl(ca: KeyPair, directory: Path, revoked: Iterable[KeyPair] = (), days: int = 1,
             last_update: Optional[datetime] = None, next_update: Optional[datetime] = None) -> Path:
    """A PEM CRL signed by `ca` (made with crl_sign) listing the (first) certificates of `revoked`'s
    cert files, valid from now for `days` unless last_update/next_update say otherwise. Made by
    `openssl ca -revoke` and `-gencrl` with a throwaway database of its own; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{ca.cert.stem}-crl-", dir=directory))
    (work / "index.txt").write_text("")
    (work / "crlnumber").write_text("1000\n")
    config = work / "ca.cnf"
    config.write_text(_CRL_CONFIG.format(dir=work))
    signer = ["-config", config, "-cert", ca.cert, "-keyfile", ca.key, "-batch"]
    for pair in revoked:
        _run(["openssl", "ca", *signer, "-revoke", pair.cert])
    validity = ["-crldays", str(days)]
    if last_update is not None or next_update is not None:
        now = datetime.now(timezone.utc)
        validity = ["-crl_lastupdate", _crl_time(last_update or now),
                    "-crl_nextupdate", _crl_time(next_update or now + timedelta(days=days))]
    crl = work / "crl.pem"
    _run(["openssl", "ca", *signer, "-gencrl", *validity, "-out", crl])
    return crl


def make_expired_crl(ca: KeyPair, directory: Path, revoked: Iterable[KeyPair] = ()) -> Path:
    """make_crl, but issued two days ago with a nextUpdate a day ago: expired."""
    now = datetime.now(timezone.utc)
    return make_crl(ca, directory, revoked, last_update=now - timedelta(days=2), next_update=now - timedelta(days=1))


def leaf_pem(pair: KeyPair) -> str:
    """The first certificate of a KeyPair's cert file (the leaf, without the chain after it)."""
    text = pair.cert_pem
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----\n")
    return text[:end]


def nginx_escaped(text: str) -> str:
    """`text` escaped as nginx's $ssl_client_escaped_cert: every byte outside A-Z a-z 0-9 - . _ ~
    as %XX, uppercase hex."""
    unreserved = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    return "".join(chr(byte) if byte in unreserved else f"%{byte:02X}" for byte in text.encode())


def not_after(cert: Path) -> int:
    """notAfter of a PEM certificate as Unix seconds."""
    out = _run(["openssl", "x509", "-in", cert, "-noout", "-enddate", "-dateopt", "iso_8601"]).stdout
    text = out.strip().split("=", 1)[1]
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tls_secret(name: str, chain_pem: str, key_pem: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": m.NAMESPACE},
            "data": {"tls.crt": b64(chain_pem), "tls.key": b64(key_pem)}}


def ca_secret(name: str, ca_pem: str, crl_pem: Optional[str] = None) -> dict:
    """An Opaque Secret with ca.crt (auth-tls-secret's CAs) and, when given, ca.crl (its CRLs)."""
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": name, "namespace": m.NAMESPACE}, "data": {"ca.crt": b64(ca_pem)}}
    if crl_pem is not None:
        secret["data"]["ca.crl"] = b64(crl_pem)
    return secret


def tls_ingress(name: str, host: str, service: str, secret: Optional[str], annotations: Optional[dict] = None,
                paths: Iterable[str] = ("/",)) -> dict:
    """An Ingress for `host` routing `paths` (Prefix) to `service`, with spec.tls when `secret`."""
    ingress = m.ingress(name, [(p, service) for p in paths], annotations=annotations, host=host)
    if secret:
        ingress["spec"]["tls"] = [{"hosts": [host], "secretName": secret}]
    return ingress


# -- probes ------------------------------------------------------------------------------------

@dataclass
class Presented:
    subject: str
    sans: str
    fingerprint: str


def s_client(port: int, servername: Optional[str], extra: Iterable[str] = ()) -> subprocess.CompletedProcess:
    sni = ["-servername", servername] if servername else ["-noservername"]
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *sni, *extra],
                          input="", capture_output=True, text=True, timeout=OPENSSL_TIMEOUT_S)


def presented_certificate(port: int, servername: Optional[str]) -> Presented:
    """The leaf the server presents for this SNI (None: no SNI at all), as s_client sees it."""
    hello = s_client(port, servername)
    match = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", hello.stdout, re.S)
    if not match:
        raise AssertionError(f"s_client got no certificate:\n{hello.stdout}\n{hello.stderr}")
    details = subprocess.run(["openssl", "x509", "-noout", "-subject", "-fingerprint", "-sha256",
                              "-ext", "subjectAltName"], input=match.group(0), capture_output=True, text=True,
                             timeout=OPENSSL_TIMEOUT_S, check=True).stdout
    subject = re.search(r"subject=(.*)", details).group(1).strip()
    fingerprint = re.search(r"Fingerprint=(.*)", details).group(1).strip()
    sans = re.search(r"Subject Alternative Name:\s*\n\s*(.*)", details)
    return Presented(subject, sans.group(1).strip() if sans else "", fingerprint)


def client_context(ca: Optional[KeyPair], client: Optional[KeyPair] = None) -> ssl.SSLContext:
    """Trusting `ca` (None: anything); presenting `client` (its cert file may hold the chain
    after the leaf) when the server asks for a certificate."""
    context = ssl.create_default_context(cafile=str(ca.cert)) if ca else ssl._create_unverified_context()
    if ca is None:
        context.check_hostname = False
    if client is not None:
        context.load_cert_chain(str(client.cert), str(client.key))
    return context


class TlsConnection(Connection):
    """rawhttp.Connection over TLS: SNI `sni` (None: none sent), trusting `ca` (None: anything),
    presenting `client` if asked; `context` (instead of ca/client) and `session` (one to offer
    for resumption) as Python's ssl takes them."""

    def __init__(self, port: int, sni: Optional[str], ca: Optional[KeyPair], timeout: float = 5.0,
                 client: Optional[KeyPair] = None, context: Optional[ssl.SSLContext] = None,
                 session: Optional[ssl.SSLSession] = None):
        context = context or client_context(ca, client)
        if sni is None:
            context.check_hostname = False
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            self.sock = context.wrap_socket(raw, server_hostname=sni, session=session)
        except BaseException:
            raw.close()
            raise
        self._reader = self.sock.makefile("rb")


def https_get(port: int, host: str, path: str, ca: Optional[KeyPair], sni: Optional[str] = "",
              headers: Optional[dict] = None, client: Optional[KeyPair] = None):
    """GET over TLS; sni "" (default) = the same as host; `client`: the client certificate."""
    with TlsConnection(port, host if sni == "" else sni, ca, client=client) as connection:
        connection.send(format_request("GET", path, headers=headers, host=host))
        return connection.read_response()


def controller_has_tls_side() -> bool:
    """Whether this pier-controller build carries the controller half of TLS (the
    --default-tls-secret flag, HSTS and proxy-ssl-* annotations). Tests of behaviour that only
    that half can configure skip, saying so, on a controller without it."""
    from harness import binary
    completed = subprocess.run([str(binary("pier-controller")), "--help"], capture_output=True, text=True,
                               timeout=OPENSSL_TIMEOUT_S)
    return "--default-tls-secret" in completed.stdout


def server_context(pair: KeyPair) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pair.cert), str(pair.key))
    return context


# -- servers in the test process -----------------------------------------------------------------

ACCEPT_POLL_S = 0.2


class TlsTestServer:
    """A listener on 127.0.0.1 (a free port: `port`) with a thread per connection. With `context`
    each connection is wrapped (server side) first: a handshake that fails goes to
    `refused_handshake`, one that succeeds to `handle`; with None, `handle` gets the TCP socket.
    Every connection gets `timeout` (None: blocking) and a number (0, 1, ... in accept order).
    OSError and ValueError end a connection quietly; it is closed after `handle` in any case.
    `close` stops accepting and shuts every connection down. A subclass sets up what it keeps
    before it calls __init__, which starts accepting."""

    def __init__(self, context: Optional[ssl.SSLContext] = None, timeout: Optional[float] = None):
        self._context = context
        self._timeout = timeout
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._sockets: list[socket.socket] = []
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(ACCEPT_POLL_S)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    def handle(self, sock: socket.socket, number: int) -> None:
        """Serve connection `number` (an ssl.SSLSocket with a context); subclasses say how."""
        raise NotImplementedError

    def refused_handshake(self, number: int, error: OSError) -> None:
        """Connection `number`'s TLS handshake failed with `error`; subclasses may keep it."""

    def request_heads(self, reader) -> Iterator[tuple[str, dict[str, str]]]:
        """read_request_head on `reader`, one request after another, until the connection ends
        or the server is closed."""
        while not self._stopping.is_set():
            head = read_request_head(reader)
            if head is None:
                return
            yield head

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                raw, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            raw.settimeout(self._timeout)
            with self._lock:
                self._sockets.append(raw)
            threading.Thread(target=self._serve, args=(raw, next(self._numbers)), daemon=True).start()

    def _serve(self, raw: socket.socket, number: int) -> None:
        sock = None
        try:
            if self._context is None:
                sock = raw
            else:
                try:
                    sock = self._context.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError) as error:
                    self.refused_handshake(number, error)
                    return
                with self._lock:
                    self._sockets.append(sock)
            self.handle(sock, number)
        except (OSError, ValueError):
            pass
        finally:
            (sock or raw).close()

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._acceptor.join(timeout=2)


def read_request_head(reader) -> Optional[tuple[str, dict[str, str]]]:
    """(target, headers: lower-case names) of the next request on `reader` (a binary file of a
    socket; the request's body, if any, read and dropped); None when the connection ends first."""
    line = reader.readline(65536)
    if not line:
        return None
    _, target, _ = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        line = reader.readline(65536)
        if not line:
            return None
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            break
        name, _, value = text.partition(":")
        headers[name.strip().lower()] = value.strip()
    if int(headers.get("content-length", "0")):
        reader.read(int(headers["content-length"]))
    return target, headers


# -- client certificates (auth-tls-*) ------------------------------------------------------------

NO_CERTIFICATE = "No required SSL certificate was sent"
CERTIFICATE_ERROR = "The SSL certificate error"

VERIFY, SUBJECT, ISSUER, CERT = "ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn", "ssl-client-cert"
CLIENT_FIELDS = (VERIFY, SUBJECT, ISSUER, CERT)


@dataclass
class Exchange:
    """A response, and the request as the upstream received it (None: it never got there), in
    whatever form the test's upstream keeps requests."""
    response: Response
    upstream: Optional[object]

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def text(self) -> str:
        return self.response.text


@dataclass
class Seen(Exchange):
    """An Exchange with a Recorder as the upstream, and the ssl-client-* fields it got."""
    upstream: Optional[RecordedRequest]

    def fields(self) -> list[tuple[str, str]]:
        """Every ssl-client-* field the upstream got, lower-cased names, in order."""
        assert self.upstream is not None, f"the request never reached the upstream: {self.status} {self.text}"
        return [(name.lower(), value) for name, value in self.upstream.headers if name.lower() in CLIENT_FIELDS]

    def field(self, name: str) -> Optional[str]:
        """The one value of an ssl-client-* field at the upstream (None: absent); never two."""
        values = [value for key, value in self.fields() if key == name]
        assert len(values) <= 1, f"{name} reached the upstream {len(values)} times: {values}"
        return values[0] if values else None

    def client_fields(self) -> dict[str, str]:
        return {name: value for name, value in self.fields()}


def recorded(recorder: Recorder, test_id: str) -> Optional[RecordedRequest]:
    """The request `recorder` got with X-Test-Id `test_id` (None: it never got there)."""
    # The recorder keeps a request before it answers: a proxied response means it is there.
    for request in reversed(recorder.requests()):
        if request.header("x-test-id") == test_id:
            return request
    return None


def assert_refused(seen: Seen, status: int, phrase: str) -> None:
    assert seen.status == status, (seen.status, seen.text)
    assert phrase in seen.text, seen.text
    assert seen.upstream is None, "a refused request reached the upstream"


def client_auth_outcome(seen: Seen) -> tuple:
    """What has to be the same with nginx: the status, which of nginx's two 400 reasons the body
    names, and the ssl-client-* fields the upstream got."""
    phrase = next((p for p in (NO_CERTIFICATE, CERTIFICATE_ERROR) if p in seen.text), None)
    return seen.status, phrase, seen.client_fields() if seen.upstream is not None else None


def controller_warnings(stack, ingress: str) -> list[str]:
    """The warnings the controller of `stack` (a PierStack) logged about ingress default/`ingress`."""
    return re.findall(rf"(\w+: ingress default/{re.escape(ingress)}: .*)", stack.controller.log_text())
