"""Kubernetes objects for the manifests source, built in Python.

JSON is YAML, so a manifest file is the objects as JSON documents separated by `---`: no YAML
library needed, and no quoting surprises (a port or "true" stays what it is).
"""

from __future__ import annotations

import json
from typing import Iterable, Optional

NAMESPACE = "default"
PORT_NAME = "http"


def render(*objects: dict) -> str:
    return "\n---\n".join(json.dumps(o, indent=1) for o in objects) + "\n"


def ingress_class(name: str = "pier", default: bool = True) -> dict:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"controller": "pier.dev/ingress-controller"},
    }


def service(name: str, port: int = 80) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"ports": [{"name": PORT_NAME, "port": port, "targetPort": PORT_NAME, "protocol": "TCP"}]},
    }


def endpoint_slice(name: str, service_name: str, port: Optional[int],
                   addresses: Iterable[str] = ("127.0.0.1",)) -> dict:
    """One slice: every address on `port`. port=None gives a slice with no endpoints at all."""
    endpoints = [] if port is None else [
        {"addresses": [address], "conditions": {"ready": True}} for address in addresses]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": NAMESPACE,
                     "labels": {"kubernetes.io/service-name": service_name}},
        "addressType": "IPv4",
        "ports": [{"name": PORT_NAME, "port": port if port is not None else 80, "protocol": "TCP"}],
        "endpoints": endpoints,
    }


def catch_all(name: str, ports: Iterable[int]) -> str:
    """The manifests of Service `name` with a backend per port and one Ingress ("app") sending
    every host and path to it: the stack most single-backend tests need."""
    return render(*service_with_backends(name, ports), ingress("app", [("/", name)]))


def service_with_backends(name: str, ports: Iterable[int]) -> list[dict]:
    """A Service and one slice per backend port (a slice has one port list for all endpoints)."""
    objects = [service(name)]
    for index, port in enumerate(ports):
        objects.append(endpoint_slice(f"{name}-{index}", name, port))
    return objects


def ingress(name: str, paths: Iterable[tuple], annotations: Optional[dict] = None, host: str = "",
            creation_timestamp: str = "2024-01-01T00:00:00Z") -> dict:
    """An Ingress on `host` ("" = all hosts) routing each path to port 80 of a Service.

    `paths` holds (path, service) pairs, Prefix matches, or (path, service, pathType) triples.
    """
    entries = []
    for item in paths:
        path, svc = item[0], item[1]
        path_type = item[2] if len(item) > 2 else "Prefix"
        entries.append({"path": path, "pathType": path_type,
                        "backend": {"service": {"name": svc, "port": {"number": 80}}}})
    rule: dict = {"http": {"paths": entries}}
    if host:
        rule["host"] = host
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": NAMESPACE, "annotations": annotations or {},
                     "creationTimestamp": creation_timestamp},
        "spec": {"ingressClassName": "pier", "rules": [rule]},
    }
