"""CORS as a browser judges it: headless Chromium loads a page from one origin and calls an API
on another through Pier (enable-cors), so what is checked is whether a real browser lets the
page's script read the answers, not only which headers were sent.

Chromium resolves every name to 127.0.0.1 (--host-resolver-rules), so the page origin
app.test, the API host api.test and everything the browser tries on its own stay on loopback.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import manifests as m
from harness import free_port
from recorder import Recorder, RecordedRequest

BROWSER_TIMEOUT_S = 60

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="chromium is not installed (./dev installs the Debian package)")

# Each attempt reports whether the script could read the answer; a CORS refusal is a TypeError.
PAGE = """<!doctype html><meta charset="utf-8"><title>cors</title><script>
const api = new URLSearchParams(location.search).get("api") + "/api";
async function attempt(name, init) {
  try {
    const r = await fetch(api, init);
    return {name, ok: true, status: r.status, body: await r.text(), total: r.headers.get("X-Total")};
  } catch (e) {
    return {name, ok: false, error: String(e)};
  }
}
(async () => {
  const results = {};
  for (const [name, init] of [
      ["simple", {}],
      ["preflighted", {method: "PUT", headers: {"X-Token": "t"}, credentials: "include"}],
      ["header-not-allowed", {headers: {"X-Other": "o"}}]]) {
    results[name] = await attempt(name, init);
  }
  await fetch("/result", {method: "POST", body: JSON.stringify(results)});
})();
</script>"""


class PageServer:
    """Serves PAGE on every Host it is called by (each Host is another origin to the browser) and
    collects the results the page posts back."""

    def __init__(self):
        self.results: dict[str, dict] = {}
        self.arrived = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner.arrived:
                    owner.results[self.headers["Host"].split(":")[0]] = json.loads(data)
                    owner.arrived.notify_all()
                self.send_response(204)
                self.end_headers()

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, origin_host: str, timeout: float) -> dict:
        with self.arrived:
            if not self.arrived.wait_for(lambda: origin_host in self.results, timeout):
                raise TimeoutError(f"the page on {origin_host} reported nothing in {timeout} s")
            return self.results[origin_host]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def api_backend(req: RecordedRequest) -> bytes:
    body = req.method.encode()
    return (b"HTTP/1.1 200 OK\r\nX-Total: 7\r\nContent-Type: text/plain\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def run_page(stack, pages: PageServer, origin_host: str, profile: str):
    url = f"http://{origin_host}:{pages.port}/page?api=http://api.test:{stack.http_port}"
    browser = stack.launcher.start(f"chromium-{origin_host}", [
        shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * 127.0.0.1", url])
    try:
        return pages.wait_for(origin_host, BROWSER_TIMEOUT_S)
    finally:
        browser.stop()


def test_a_browser_reads_allowed_origins_only(stack):
    recorder = Recorder(respond=api_backend)
    pages = PageServer()
    try:
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(
            *m.service_with_backends("api", [recorder.port]),
            m.ingress("api", [("/", "api")], {
                "nginx.ingress.kubernetes.io/enable-cors": "true",
                "nginx.ingress.kubernetes.io/cors-allow-origin": f"http://app.test:{pages.port}",
                "nginx.ingress.kubernetes.io/cors-allow-headers": "X-Token",
                "nginx.ingress.kubernetes.io/cors-expose-headers": "X-Total"}, host="api.test")))
        stack.start()

        with tempfile.TemporaryDirectory() as profile:
            allowed = run_page(stack, pages, "app.test", profile)
        assert allowed["simple"] == {"name": "simple", "ok": True, "status": 200, "body": "GET", "total": "7"}
        assert allowed["preflighted"]["ok"] and allowed["preflighted"]["body"] == "PUT", allowed
        assert not allowed["header-not-allowed"]["ok"], allowed
        methods = [r.method for r in recorder.requests()]
        # Pier answered both preflights; the refused one never reached the backend either.
        assert methods == ["GET", "PUT"], methods

        with tempfile.TemporaryDirectory() as profile:
            other = run_page(stack, pages, "evil.test", profile)
        assert not any(result["ok"] for result in other.values()), other
    finally:
        pages.close()
        recorder.close()
