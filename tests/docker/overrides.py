"""Compose overrides that run the lab's own compose files where some pinned images cannot be had.

One override per compose file, derived from it: an image that cannot be pulled runs as its stand-in
(standins.py), the Dockerfile's base images likewise through its build arguments, and a service
whose image has no stand-in (Grafana, Loki, Tempo, Pyroscope, Alloy) is put in a profile nobody
starts, as is every service that depends on one (the test starts those itself, without the
dependency). The nox sessions read them from the directory in LAB_COMPOSE_OVERRIDES (`<compose
folder>.yaml`), so the tests bring the lab up exactly as a learner does, through `nox -s stage-N`,
and no compose file a learner runs is edited. Where every image can be pulled, only the timings
below change.
"""

import tomllib
from pathlib import Path

import yaml

from tests.config.repo_files import (
    COMPOSE_FILES,
    PROMETHEUS_CONFIG,
    REPO,
    dockerfile_base_images,
    load_yaml,
)
from tests.docker import standins
from tools.slo_rules import render

# Services in this profile are not started by `up`; a test may still start one by name.
HELD_BACK = "held-back"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
SLOS = REPO / "compose/stack/prometheus/slos.yaml"
ALERTMANAGER_CONFIG = REPO / "compose/stack/alertmanager/alertmanager.yml"
# Incidents in seconds, not the workbook's minutes: every SLO window 60 times shorter (1h -> 60 s,
# 5m -> 5 s), so Prometheus scrapes and evaluates every second, and Alertmanager groups at once.
WINDOWS_SCALE = 1 / 60


def prometheus_mounts(directory: Path, standin: bool) -> list[str]:
    """The stack's prometheus.yml and SLO rules, sped up as above; for the 2.53 stand-in also
    without docker_sd's match_first_network, which 2.53 does not know (2.54+)."""
    config = load_yaml(PROMETHEUS_CONFIG)
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    for job in config["scrape_configs"] if standin else []:
        for discovery in job.get("docker_sd_configs", []):
            discovery.pop("match_first_network", None)
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    rules = directory / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "slo.rules.yml").write_text(render(SLOS, windows_scale=WINDOWS_SCALE))
    return [
        f"{directory / 'prometheus.yml'}:/etc/prometheus/prometheus.yml:ro",
        f"{rules}:/etc/prometheus/rules:ro",
    ]


def alertmanager_mounts(directory: Path) -> list[str]:
    """The stack's Alertmanager config with its waits cut to seconds (routes and receiver kept)."""
    config = load_yaml(ALERTMANAGER_CONFIG)
    config["route"].update(group_wait="1s", group_interval="2s")
    path = directory / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return [f"{path}:/etc/alertmanager/alertmanager.yml:ro"]


def build_override() -> dict:
    """Build arguments naming the base images to build on, and the host's CA bundle as a secret."""
    bases = dockerfile_base_images()
    resolved = {arg: standins.resolve(image) for arg, image in bases.items()}
    args = {arg: image for arg, image in resolved.items() if image != bases[arg]}
    override: dict = {"args": args} if args else {}
    if CA_BUNDLE.exists():
        override["secrets"] = ["ca-bundle"]
    return override


def override_for(compose_file: Path, directory: Path) -> dict:
    services = load_yaml(compose_file)["services"]
    changes: dict[str, dict] = {name: {} for name in services}
    held_back = set()
    for name, service in services.items():
        if "build" in service:
            if build := build_override():
                changes[name]["build"] = build
            continue
        try:
            image = standins.resolve(service["image"])
        except LookupError:
            held_back.add(name)
            continue
        if image != service["image"]:
            changes[name]["image"] = image
        if name == "prometheus":
            changes[name]["volumes"] = prometheus_mounts(directory, image != service["image"])
        if name == "alertmanager":
            changes[name]["volumes"] = alertmanager_mounts(directory)
    # And whatever depends on them, transitively.
    depends = {name: set(service.get("depends_on", {})) for name, service in services.items()}
    while depending := {name for name, on in depends.items() if on & held_back} - held_back:
        held_back |= depending
    for name in held_back:
        changes[name]["profiles"] = [HELD_BACK]
    document: dict = {"services": {name: change for name, change in changes.items() if change}}
    uses_secret = any("secrets" in change.get("build", {}) for change in changes.values())
    if uses_secret:
        document["secrets"] = {"ca-bundle": {"file": str(CA_BUNDLE)}}
    return document


def write_overrides(directory: Path) -> Path:
    """Write `<compose folder>.yaml` for every compose file into `directory`; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    for compose_file in COMPOSE_FILES:
        override = override_for(compose_file, directory)
        path = directory / f"{compose_file.parent.name}.yaml"
        path.write_text(yaml.safe_dump(override, sort_keys=False))
    return directory


def services_held_back(directory: Path, folder: str) -> list[str]:
    """The services of compose/<folder> that the override keeps from starting."""
    document = load_yaml(directory / f"{folder}.yaml")
    return [
        name
        for name, change in document.get("services", {}).items()
        if HELD_BACK in change.get("profiles", [])
    ]


def images_compose(directory: Path) -> Path:
    """A compose file that builds every app member's image as `nox -s stage-N` would, at once."""
    services = {}
    for pyproject in sorted(REPO.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        if not project.get("scripts"):
            continue  # a library: imported by the apps, no image of its own
        # A stage's frontend has an image of its own: the member with its `frontend` extra.
        variants = {project["name"]: {}}
        if "frontend" in project.get("optional-dependencies", {}):
            variants[f"{project['name']}-frontend"] = {"DEPS": "frontend"}
        for image, args in variants.items():
            build = {
                "context": str(REPO),
                "dockerfile": "Dockerfile",
                "args": {"PACKAGE": project["name"], **args},
            }
            extra = build_override()
            build["args"].update(extra.get("args", {}))
            if "secrets" in extra:
                build["secrets"] = extra["secrets"]
            services[image] = {
                "build": build,
                "image": f"observability-lab/{image}:{project['version']}",
                "pull_policy": "build",
            }
    document: dict = {"name": "lab-images", "services": services}
    if CA_BUNDLE.exists():
        document["secrets"] = {"ca-bundle": {"file": str(CA_BUNDLE)}}
    path = directory / "images.compose.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
