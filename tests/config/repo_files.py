"""Reading the repository's compose files, dashboards and tables, for the config tests."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.support.paths import REPO

COMPOSE_FILES = sorted((REPO / "compose").glob("*/compose.yaml"))
STACK_COMPOSE = REPO / "compose" / "stack" / "compose.yaml"
DASHBOARDS = sorted((REPO / "compose" / "stack" / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = REPO / "compose/stack/grafana/provisioning/datasources/datasources.yaml"
PROMETHEUS_CONFIG = REPO / "compose/stack/prometheus/prometheus.yml"
ALLOY_CONFIG = REPO / "compose/stack/alloy/config.alloy"
ARCHITECTURE = REPO / "docs" / "architecture.md"
PYROSCOPE_CONFIG = REPO / "compose/stack/pyroscope/pyroscope.yaml"
LAB_NETWORK = "observability-lab"
# Where the apps send profiles (the Pyroscope SDKs' server address): Alloy's pyroscope.receive_http,
# which forwards to Pyroscope, so Alloy stays the one address an app sends telemetry to. Run outside
# Docker, an app sends to the same port on 127.0.0.1. tests/config/test_stack_configs.py holds
# Alloy's config, the stack's published ports and every compose file to it.
PROFILES_URL = "http://alloy:9999"


def dockerfile_base_images() -> dict[str, str]:
    """The Dockerfile's base images: build argument -> its pinned default (the ARGs before FROM)."""
    header = (REPO / "Dockerfile").read_text().split("\nFROM ", 1)[0]
    return dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", header, re.MULTILINE))


# Memory as compose (Docker's k, m, g) and Kubernetes (Ki, Mi, Gi) write it: powers of 1024.
MEMORY_UNITS = {"k": 2**10, "m": 2**20, "g": 2**30, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def memory_bytes(value: str) -> int:
    """A compose mem_limit or a Kubernetes memory quantity, in bytes."""
    number, unit = re.fullmatch(r"(\d+)([A-Za-z]*)", str(value)).groups()  # type: ignore[union-attr]
    return int(number) * MEMORY_UNITS[unit]


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def services(path: Path) -> dict[str, dict]:
    return load_yaml(path)["services"]


def all_services() -> Iterator[tuple[Path, str, dict]]:
    for path in COMPOSE_FILES:
        for name, service in services(path).items():
            yield path, name, service


def host_ports() -> dict[int, str]:
    """Every published host port -> 'file:service', from the short "ip:host:container" syntax."""
    ports = {}
    for path, name, service in all_services():
        for mapping in service.get("ports", []):
            ports[int(str(mapping).split(":")[-2])] = f"{path.parent.name}:{name}"
    return ports


def dashboard_targets() -> Iterator[tuple[str, dict, dict]]:
    """(dashboard file, panel, target) for every query of every panel."""
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                yield path.name, panel, target


def promql_queries() -> list[tuple[str, str, str]]:
    return [
        (name, panel["title"], target["expr"])
        for name, panel, target in dashboard_targets()
        if target["datasource"]["type"] == "prometheus"
    ]


def docker_label_names(config_text: str) -> set[str]:
    """Container labels a Prometheus or Alloy config reads, as compose spells them (dots)."""
    return lab_names(config_text, "__meta_docker_container_label_")


def pod_annotation_names(config_text: str) -> set[str]:
    """Pod annotations a Prometheus or Alloy config reads, as the lab chart spells them (dots)."""
    return lab_names(config_text, "__meta_kubernetes_pod_annotation_")


def lab_names(config_text: str, meta_prefix: str) -> set[str]:
    """The `lab.*` names read through a discovery's meta labels, which turn dots into _."""
    found = re.findall(rf"{meta_prefix}(lab_[a-z_]+)", config_text)
    return {name.replace("_", ".") for name in found}


def ports_in_table(markdown: str, heading: str) -> set[str]:
    """Port cells (numbers or patterns like 8N00) of the first table under `heading`."""
    section = markdown.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    cells = [row.split("|")[2] for row in rows[2:]]
    return {port for cell in cells for port in re.findall(r"\b\d{4,5}\b|\b8N0\d\b", cell)}
