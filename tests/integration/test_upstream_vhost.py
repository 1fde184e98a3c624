"""upstream-vhost: the backend gets the annotation's Host instead of the client's, which goes on
in X-Forwarded-Host; a value with an nginx variable is refused and the client's Host is kept.
server-alias: more host names served with an Ingress' paths. service-upstream: the Service's
cluster IP and port are dialled instead of its endpoints."""

from __future__ import annotations

import manifests as m
from harness import free_port
from rawhttp import request
from recorder import Recorder


def test_upstream_vhost_replaces_the_host(stack):
    recorder = Recorder()
    try:
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(
            *m.service_with_backends("recorder", [recorder.port]),
            m.ingress("vhost", [("/", "recorder")],
                      {"nginx.ingress.kubernetes.io/upstream-vhost": "internal.svc:8080"}, host="app.test"),
            m.ingress("variable", [("/", "recorder")], {"pier.dev/upstream-vhost": "$host.internal"},
                      host="other.test")))
        stack.start()

        assert request(stack.http_port, "GET", "/x", headers={"Host": "app.test"}).status == 200
        headers = recorder.requests()[-1].headers
        assert [v for k, v in headers if k.lower() == "host"] == ["internal.svc:8080"]
        assert dict((k.lower(), v) for k, v in headers)["x-forwarded-host"] == "app.test"

        assert request(stack.http_port, "GET", "/x", headers={"Host": "other.test"}).status == 200
        headers = recorder.requests()[-1].headers
        assert [v for k, v in headers if k.lower() == "host"] == ["other.test"]
    finally:
        recorder.close()


def test_server_alias_serves_the_paths_on_more_hosts(stack):
    recorder = Recorder()
    try:
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(
            *m.service_with_backends("recorder", [recorder.port]),
            m.ingress("site", [("/shop", "recorder")],
                      {"nginx.ingress.kubernetes.io/server-alias": "www.site.test, *.site.example"}, host="site.test")))
        stack.start()
        for host in ("site.test", "www.site.test", "eu.site.example"):
            assert request(stack.http_port, "GET", "/shop/x", headers={"Host": host}).status == 200, host
            assert recorder.requests()[-1].header("Host") == host
        assert request(stack.http_port, "GET", "/other", headers={"Host": "www.site.test"}).status == 404
        assert request(stack.http_port, "GET", "/shop", headers={"Host": "a.b.site.example"}).status == 404
    finally:
        recorder.close()


def test_service_upstream_dials_the_cluster_ip(stack):
    recorder = Recorder()
    try:
        service = m.service("mesh", port=recorder.port)
        service["spec"]["clusterIP"] = "127.0.0.1"
        ingresses = [m.ingress("via-ip", [("/", "mesh")], {"nginx.ingress.kubernetes.io/service-upstream": "true"},
                               host="mesh.test"),
                     m.ingress("via-endpoints", [("/", "mesh")], host="direct.test")]
        for ingress in ingresses:  # the Service's port is the recorder's
            ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"] = recorder.port
        stack.write_manifest("class.yaml", m.render(m.ingress_class()))
        stack.write_manifest("app.yaml", m.render(
            # The slice names a port nothing listens on: only the cluster IP route can answer.
            service, m.endpoint_slice("mesh-1", "mesh", free_port()), *ingresses))
        stack.start()
        assert request(stack.http_port, "GET", "/x", headers={"Host": "mesh.test"}).status == 200
        assert recorder.requests()[-1].target == "/x"
        assert request(stack.http_port, "GET", "/x", headers={"Host": "direct.test"}).status == 502
    finally:
        recorder.close()
