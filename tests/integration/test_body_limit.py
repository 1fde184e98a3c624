"""--default-proxy-body-size: the request body limit of every route whose Ingress does not set
proxy-body-size (ingress-nginx's global ConfigMap key); the annotation still wins, and 0 lifts
the limit."""

from __future__ import annotations

import pytest

import manifests as m
from rawhttp import request
from recorder import Recorder


@pytest.fixture
def recorded(stack):
    recorder = Recorder()
    stack.write_manifest("class.yaml", m.render(m.ingress_class()))
    stack.write_manifest("app.yaml", m.render(
        *m.service_with_backends("recorder", [recorder.port]),
        m.ingress("default", [("/", "recorder")], host="default.test"),
        m.ingress("own", [("/", "recorder")], {"pier.dev/proxy-body-size": "1k"}, host="own.test")))
    yield stack, recorder
    recorder.close()


def post(stack, host: str, size: int):
    return request(stack.http_port, "POST", "/upload", headers={"Host": host}, body=b"x" * size)


def test_the_flag_limits_routes_without_the_annotation(recorded):
    stack, recorder = recorded
    stack.dataplane_args = ["--default-proxy-body-size", "100"]
    stack.start()
    assert post(stack, "default.test", 100).status == 200
    refused = post(stack, "default.test", 101)
    assert refused.status == 413
    assert b"larger than 100 bytes" in refused.body
    # The Ingress' own proxy-body-size wins over the flag, both ways.
    assert post(stack, "own.test", 1024).status == 200
    assert post(stack, "own.test", 1025).status == 413
    assert len(recorder.requests()) == 2


def test_zero_lifts_the_limit(recorded):
    stack, recorder = recorded
    stack.dataplane_args = ["--default-proxy-body-size", "0"]
    stack.start()
    assert post(stack, "default.test", 3 * 1024 * 1024).status == 200
    assert recorder.requests()[-1].body == b"x" * (3 * 1024 * 1024)


def test_a_bad_value_stops_the_dataplane_with_the_flags_name(stack):
    stack.dataplane_args = ["--default-proxy-body-size", "ten"]
    dataplane = stack.start_dataplane()
    assert dataplane.popen.wait(timeout=10) != 0
    assert "--default-proxy-body-size" in dataplane.log_text()
