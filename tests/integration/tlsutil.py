"""TLS helpers for the integration tests: a throwaway CA and certificates made with the openssl
CLI in the test's tmp dir (no key material is checked in), Secret and TLS Ingress manifests,
`openssl s_client` probes and an HTTPS client that sets SNI and Host independently."""

from __future__ import annotations

import base64
import re
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import manifests as m
from rawhttp import Connection, format_request

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


def make_ca(directory: Path, name: str = "Pier Test CA") -> KeyPair:
    directory.mkdir(parents=True, exist_ok=True)
    ca = KeyPair(directory / f"{name.replace(' ', '-')}.crt", directory / f"{name.replace(' ', '-')}.key")
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", ca.key, "-out", ca.cert, "-days", "2", "-subj", f"/CN={name}",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
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


def make_intermediate_ca(parent: KeyPair, directory: Path, name: str) -> KeyPair:
    """A CA for `/CN=name` signed by `parent` (its cert file holds only its own certificate)."""
    stem = name.replace(" ", "-")
    key, csr = _new_key_and_csr(directory, stem, f"/CN={name}")
    extensions = directory / f"{stem}.ext"
    extensions.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n")
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
    from datetime import datetime, timezone
    text = out.strip().split("=", 1)[1]
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tls_secret(name: str, chain_pem: str, key_pem: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": m.NAMESPACE},
            "data": {"tls.crt": b64(chain_pem), "tls.key": b64(key_pem)}}


def ca_secret(name: str, ca_pem: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": m.NAMESPACE}, "data": {"ca.crt": b64(ca_pem)}}


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
