"""use-regex, rewrite-target and x-forwarded-prefix: a regex path with a rewrite sends the backend
the rewritten path (query kept), other Ingresses on the host keep their own matching, a regex
RE2 refuses is skipped, and for the same requests real nginx, configured as ingress-nginx
writes these annotations (`location ~* "^PATH"` with `rewrite "(?i)PATH" TARGET break`), sends
its backend the same targets."""

from __future__ import annotations

import pytest

import manifests as m
from harness import wait_until
from nginxutil import NGINX, start_nginx
from rawhttp import request
from recorder import Recorder

API_PATH = "/api(/|$)(.*)"
TARGET = "/$2"
# Paths whose rewrite does not depend on how nginx normalises or decodes a URI.
REQUESTS = ["/api/v1/users?page=2", "/api", "/api/", "/API/Mixed/Case", "/apix", "/other/api/x", "/",
            "/api/a/b/c?x=1&y=%2F"]


def targets_through(port: int, host: str, api: Recorder, web: Recorder) -> list[tuple[str, str]]:
    """For each request, which backend got it and with what target."""
    seen = []
    for target in REQUESTS:
        before = (len(api.requests()), len(web.requests()))
        response = request(port, "GET", target, headers={"Host": host})
        assert response.status == 200, (target, response.status, response.text)
        if len(api.requests()) > before[0]:
            seen.append(("api", api.requests()[-1].target))
        else:
            assert len(web.requests()) > before[1], target
            seen.append(("web", web.requests()[-1].target))
    return seen


@pytest.fixture
def rewrite(stack):
    api, web = Recorder(), Recorder()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("api", [api.port]),
        *m.service_with_backends("web", [web.port]),
        m.ingress("api", [(API_PATH, "api", "ImplementationSpecific")], {
            "nginx.ingress.kubernetes.io/rewrite-target": TARGET,
            "nginx.ingress.kubernetes.io/x-forwarded-prefix": "/api"}, host="app.test"),
        m.ingress("web", [("/", "web")], host="app.test", creation_timestamp="2024-02-01T00:00:00Z"),
        m.ingress("bad", [("/(a", "web", "ImplementationSpecific"), ("/ok", "web")],
                  {"pier.dev/use-regex": "true"}, host="bad.test")))
    stack.start()
    yield stack, api, web
    api.close()
    web.close()


def test_the_backend_gets_the_rewritten_path(rewrite):
    stack, api, web = rewrite
    seen = targets_through(stack.http_port, "app.test", api, web)
    assert seen == [("api", "/v1/users?page=2"), ("api", "/"), ("api", "/"), ("api", "/Mixed/Case"),
                    ("web", "/apix"), ("web", "/other/api/x"), ("web", "/"), ("api", "/a/b/c?x=1&y=%2F")]
    assert api.requests()[-1].header("X-Forwarded-Prefix") == "/api"
    assert web.requests()[-1].header("X-Forwarded-Prefix") is None


def test_a_regex_re2_refuses_is_skipped(rewrite):
    stack, _, web = rewrite
    assert request(stack.http_port, "GET", "/(a", headers={"Host": "bad.test"}).status == 404
    # The valid regex path of the same Ingress still serves (as a regex: "^/ok", open at the end).
    assert request(stack.http_port, "GET", "/okay", headers={"Host": "bad.test"}).status == 200
    assert web.requests()[-1].target == "/okay"
    wait_until(lambda: "InvalidPath" in stack.controller.log_text() and "/(a" in stack.controller.log_text(), 10,
               "the controller's InvalidPath warning")


# What ingress-nginx writes for the rewrite annotations of the "api" Ingress.
NGINX_SERVER = """\
location ~* "^{api_path}" {{
    rewrite "(?i){api_path}" {target} break;
    proxy_pass http://127.0.0.1:{api_port};
}}
location ~* "^/" {{
    proxy_pass http://127.0.0.1:{web_port};
}}
"""


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (./dev installs it)")
def test_the_same_targets_as_nginx_configured_as_ingress_nginx_does(rewrite, tmp_path):
    stack, api, web = rewrite
    pier_seen = targets_through(stack.http_port, "app.test", api, web)

    nginx, port = start_nginx(stack.launcher, tmp_path, NGINX_SERVER.format(
        api_path=API_PATH, target=TARGET, api_port=api.port, web_port=web.port), probe_host="app.test")
    assert targets_through(port, "app.test", api, web) == pier_seen
    nginx.stop()
