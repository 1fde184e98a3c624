"""ingress-nginx annotations Pier does not implement, on an Ingress Pier serves.

Each one is reported (UnsupportedAnnotation in the controller's log; a Warning Event in cluster
mode) and the Ingress is served without it. (An access check Pier did not implement would close
the Ingress' routes with 403 instead; every one ingress-nginx has is implemented now, and the
unit tests of the annotation registry keep that rule.)
"""

from __future__ import annotations

import re

import pytest

import manifests as m
from harness import PierStack, wait_until
from rawhttp import request

CACHE_HOST = "cache.example.com"
REWRITE_HOST = "rewrite.example.com"
ALIAS_HOST = "alias.example.com"
NGINX = "nginx.ingress.kubernetes.io/"


@pytest.fixture(scope="module")
def stack(module_launcher, tmp_path_factory) -> PierStack:
    stack = PierStack(module_launcher, tmp_path_factory.mktemp("unsupported"))
    backend = stack.start_backend("web-1")
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("ingresses.yaml", m.render(
        *m.service_with_backends("web", [backend.port]),
        m.ingress("cache", [("/", "web")], host=CACHE_HOST, annotations={
            NGINX + "proxy-buffering": "on", NGINX + "auth-keepalive-share-vars": "true"}),
        m.ingress("rewrite", [("/", "web")], host=REWRITE_HOST, annotations={
            NGINX + "mirror-target": "http://mirror.test/copy", NGINX + "configuration-snippet": "more_set_headers \"X: y\";"}),
        m.ingress("alias", [("/", "web")], host=ALIAS_HOST, annotations={
            NGINX + "whitelist-source-range": "127.0.0.0/8", NGINX + "proxy-read-timeout": "30",
            # "off" is what Pier does: nothing to report.
            NGINX + "proxy-buffering": "off", NGINX + "proxy-request-buffering": "off"})))
    return stack.start()


def get(stack: PierStack, host: str):
    return request(stack.http_port, "GET", "/headers", headers={"Host": host, "Connection": "close"})


def warnings(stack: PierStack, ingress: str) -> list[str]:
    return re.findall(rf"UnsupportedAnnotation: ingress default/{ingress}: (.*)", stack.controller.log_text())


def test_optimisations_pier_does_not_implement_are_reported_and_the_ingress_serves(stack):
    # Buffering, and nginx variables shared with the auth subrequest, change how, not whether, a
    # request is served.
    assert get(stack, CACHE_HOST).status == 200
    wait_until(lambda: len(warnings(stack, "cache")) == 2, 5, "the controller's UnsupportedAnnotation warnings")
    lines = warnings(stack, "cache")
    assert any(f"{NGINX}auth-keepalive-share-vars: not implemented by Pier" in line and "fail closed" not in line
               for line in lines), lines
    assert any(f"{NGINX}proxy-buffering: Pier relays each response to the client as it arrives" in line
               and "fail closed" not in line for line in lines), lines


def test_other_unsupported_keys_are_reported_and_the_ingress_still_serves(stack):
    assert get(stack, REWRITE_HOST).status == 200
    wait_until(lambda: len(warnings(stack, "rewrite")) == 2, 5, "warnings for ingress default/rewrite")
    lines = warnings(stack, "rewrite")
    assert any(f"{NGINX}mirror-target: not implemented by Pier" in line for line in lines), lines
    assert any(f"{NGINX}configuration-snippet: snippets are never applied" in line for line in lines), lines


def test_keys_pier_reads_or_whose_value_is_what_pier_does_are_not_reported(stack):
    assert get(stack, ALIAS_HOST).status == 200
    wait_until(lambda: "default/rewrite" in stack.controller.log_text(), 5, "the controller's first build")
    assert warnings(stack, "alias") == []
