"""The Helm chart's per-release values, derived from the registry and the compose files.

`nox -s k8s-values` writes deploy/kubernetes/lab/values-stage-N.yaml (one release per stage) and
values-stack.yaml (the stack's own services no upstream chart provides: PostgreSQL for the usage
stats, the usage-scraper, the alert-receiver; and the glue for the upstream charts: the dashboards
and datasources as Grafana sidecar ConfigMaps, the SLO rules as a PrometheusRule), and copies the
files the chart reads into its files/ folder; the compose files, the Grafana provisioning and
stages.toml stay the one source. tests/config/test_kubernetes.py holds the written files to what
this derives, and the rendered manifests to the compose files.

From each compose service: its container_name as the Kubernetes name (what the others call it by,
so the environment's URLs work unchanged), image, command (the image's CMD: `args`), environment
(a required variable `${NAME:?...}` becomes `$(NAME)`, NAME read from the Secret the user
creates), `lab.*` labels as pod annotations, mem_limit as the memory limit, user, read_only and
tmpfs (emptyDir in memory), an HTTP healthcheck as an httpGet probe (any other as an exec probe),
read-only bind mounts of the lab's files as ConfigMap files, and a named volume as a
PersistentVolumeClaim of a StatefulSet.
"""

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "packages" / "lab-stages" / "src",):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
import lab_stages  # noqa: E402

CHART = ROOT / "deploy" / "kubernetes" / "lab"
FILES = CHART / "files"
STACK = ROOT / "compose" / "stack"
# The stack's compose services the lab chart runs; the others come from upstream charts
# (deploy/kubernetes/CHARTS.md, which a test holds to this and the compose file).
STACK_OWN = ("postgres", "usage-scraper", "alert-receiver")
# What the stack release gives the upstream charts: the SLO rules (a PrometheusRule) and the
# datasources (Grafana's sidecar), the latter with the cluster's Service names, in files/ under
# DATASOURCES_KEY.
SLO_RULES = STACK / "prometheus" / "rules" / "slo.rules.yml"
DATASOURCES = STACK / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
DATASOURCES_KEY = "cluster-datasources.yaml"
# The compose address of a stack service -> its Service on a cluster, where the upstream chart
# names it otherwise (kube-prometheus-stack installed as `kps`, fullnameOverride kps).
CLUSTER_HOSTS = {
    "prometheus:9090": "kps-prometheus:9090",
    "alertmanager:9093": "kps-alertmanager:9093",
}
# The user of an image pulled by name in compose (`user: postgres`): the official postgres
# image creates postgres with uid and gid 999. Kubernetes needs the numbers to check non-root.
NAMED_USERS = {"postgres": (999, 999)}
REQUIRED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?[^}]*\}")
REPLACEABLE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:-([^}]+)\}$")
LOCAL_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/[^'\"\s]*)")
MEMORY = re.compile(r"^(\d+)([kmg])$")


@dataclass(frozen=True)
class Release:
    """One release of the lab chart: a stage, or the stack's own services."""

    name: str  # helm's release name, and the Secret's: lab-NAME
    compose: str  # compose/COMPOSE/compose.yaml
    app: lab_stages.App | None  # the registry's entry (a stage), None for the stack
    only: tuple[str, ...] = ()  # the compose services it runs; empty: all

    @property
    def compose_file(self) -> Path:
        return ROOT / "compose" / self.compose / "compose.yaml"

    @property
    def project(self) -> str:
        """The compose project: the pods' app.kubernetes.io/part-of, compose_project in queries."""
        return yaml.safe_load(self.compose_file.read_text())["name"]

    @property
    def values_file(self) -> Path:
        suffix = f"stage-{self.app.stage}" if self.app else self.name
        return CHART / f"values-{suffix}.yaml"


def releases() -> list[Release]:
    stages = [Release(app.name, app.compose, app) for app in lab_stages.stages()]
    return [*stages, Release("stack", "stack", None, STACK_OWN)]


def release(name: str) -> Release:
    (found,) = [r for r in releases() if r.name == name]
    return found


def compose_services(release: Release) -> dict[str, dict]:
    services = yaml.safe_load(release.compose_file.read_text())["services"]
    return {name: s for name, s in services.items() if not release.only or name in release.only}


def kube_name(compose_name: str, service: dict) -> str:
    """What the other containers call it by: its container_name, else the compose service."""
    return service.get("container_name", compose_name)


def dockerfile_user() -> tuple[int, int]:
    """The USER uid:gid of the lab's own images (Dockerfile)."""
    found = re.search(r"^USER (\d+):(\d+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert found, "Dockerfile: no USER uid:gid"
    return int(found[1]), int(found[2])


def user_of(service: dict) -> tuple[int, int]:
    if "build" in service:
        return dockerfile_user()
    user = str(service["user"])
    if user in NAMED_USERS:
        return NAMED_USERS[user]
    uid, _, gid = user.partition(":")
    return int(uid), int(gid or uid)


def memory(limit: str) -> str:
    """Compose's mem_limit (Docker's k/m/g are powers of 1024) as a Kubernetes quantity."""
    found = MEMORY.match(str(limit).lower())
    assert found, f"mem_limit {limit}: expected a number and k, m or g"
    return f"{found[1]}{found[2].upper()}i"


def environment(service: dict) -> tuple[list[dict], list[str]]:
    """The container's env and the Secret keys it reads (first, so `$(NAME)` can use them)."""
    secrets: list[str] = []
    env = []
    for name, value in service.get("environment", {}).items():
        value = str(value)
        for variable in REQUIRED.findall(value):
            if variable not in secrets:
                secrets.append(variable)
        whole = REQUIRED.fullmatch(value)
        if whole and whole[1] == name:
            continue  # the Secret's key of the same name is the whole value
        env.append({"name": name, "value": REQUIRED.sub(r"$(\1)", value)})
    return [{"name": key, "secretKey": key} for key in secrets] + env, secrets


def probe(service: dict) -> dict:
    check = service["healthcheck"]
    command = [str(part) for part in check["test"]]
    assert command[0] == "CMD", command
    url = LOCAL_URL.search(" ".join(command))
    handler = (
        {"httpGet": {"path": url[2], "port": int(url[1])}}
        if url
        else {"exec": {"command": command[1:]}}
    )
    return {
        **handler,
        "periodSeconds": seconds(check["interval"]),
        "timeoutSeconds": seconds(check["timeout"]),
        "failureThreshold": int(check["retries"]),
    }


def seconds(duration: str) -> int:
    found = re.fullmatch(r"(\d+)s", str(duration))
    assert found, f"duration {duration}: expected seconds"
    return int(found[1])


def mounts(compose_dir: Path, service: dict) -> tuple[list[dict], dict | None]:
    """Files of the lab mounted read-only (into a ConfigMap) and the named data volume."""
    files, data = [], None
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):  # a file a learner may replace: its default
            source = REPLACEABLE.match(volume["source"])[1]  # type: ignore[index]
            target = volume["target"]
        else:
            source, target, *_ = volume.split(":")
        if source.startswith(("./", "../")):
            path = (compose_dir / source).resolve()
            files.append({"file": file_key(path), "mountPath": target, "source": str(path)})
        else:
            data = {"mountPath": target, "volume": source}
    return files, data


def file_key(path: Path) -> str:
    """A file's name in the chart (files/, ConfigMap keys): its compose folder's or package's
    name and its own, so two stages' init.sql stay apart."""
    parts = path.relative_to(ROOT).parts
    return f"{parts[1]}-{path.name}"


def published(service: dict) -> list[tuple[int, int]]:
    """Compose's published ports: (host, container)."""
    found = []
    for port in service.get("ports", []):
        *_, host, container = str(port).split(":")
        found.append((int(host), int(container)))
    return found


def workload(release: Release, compose_name: str, service: dict) -> dict:
    registered = release.app.find(compose_name) if release.app else None
    container = kube_name(compose_name, service)
    uid, gid = user_of(service)
    env, _ = environment(service)
    files, data = mounts(release.compose_file.parent, service)
    database = str(service["image"]).startswith("postgres:")
    ports, local_port = [], None
    if registered:
        ports.append({"name": "http" if registered.kind != "database" else "db",
                      "containerPort": registered.container_port})  # fmt: skip
        local_port = registered.port
    else:
        for host, inside in published(service):
            ports.append({"name": "db" if database else "http", "containerPort": inside})
            local_port = local_port or host
    labels = {key: str(value) for key, value in service.get("labels", {}).items()}
    metrics = labels.get("lab.metrics.port")
    if metrics and int(metrics) not in [port["containerPort"] for port in ports]:
        ports.append({"name": "metrics", "containerPort": int(metrics)})
    found = {
        "name": container,
        "component": compose_name,
        "kind": "StatefulSet" if data else "Deployment",
        "image": service["image"],
        "own": "build" in service,
        **({"args": list(service["command"])} if "command" in service else {}),
        "runAsUser": uid,
        "runAsGroup": gid,
        "readOnlyRootFilesystem": bool(service["read_only"]),
        "tmpfs": list(service.get("tmpfs", [])),
        "memory": memory(service["mem_limit"]),
        "ports": ports,
        "env": env,
        "annotations": {key: value for key, value in labels.items() if key.startswith("lab.")},
        "probe": probe(service),
    }
    if files:
        # A script compose mounts executable stays so: the postgres image runs an executable
        # initdb script and sources any other (with its `set -u` then in the entrypoint's shell).
        found["files"] = [
            {"file": f["file"], "mountPath": f["mountPath"]}
            | ({"executable": True} if os.access(f["source"], os.X_OK) else {})
            for f in files
        ]
    if data:
        # The claim mounted one folder up: a new claim's root belongs to root and may hold
        # lost+found, which initdb refuses; the compose mount's folder (postgres's PGDATA) is
        # then made inside it by the container's user, the environment left as compose has it.
        found["data"] = {"mountPath": str(Path(data["mountPath"]).parent)}
    if local_port:
        found["localPort"] = local_port
    return found


def release_values(release: Release) -> dict:
    services = compose_services(release)
    secrets = sorted({key for s in services.values() for key in environment(s)[1]})
    values: dict = {"stage": release.app.stage if release.app else None, "project": release.project}
    if secrets:
        values["secret"] = {"name": f"lab-{release.name}", "keys": secrets}
    values["workloads"] = [workload(release, name, s) for name, s in services.items()]
    if not release.app:
        values["observability"] = observability()
    return values


def observability() -> dict:
    """The stack release's glue for the upstream charts, each read from files/."""
    return {
        "dashboards": [file_key(p) for p in dashboards()],
        "datasources": DATASOURCES_KEY,
        "rules": file_key(SLO_RULES),
    }


def dashboards() -> list[Path]:
    return sorted((STACK / "grafana" / "dashboards").glob("*.json"))


def cluster_datasources() -> str:
    """Compose's datasources with each upstream chart's Service where it is named otherwise."""
    text = DATASOURCES.read_text()
    for compose, cluster in CLUSTER_HOSTS.items():
        assert f"//{compose}" in text, f"{DATASOURCES.name}: no {compose}"
        text = text.replace(f"//{compose}", f"//{cluster}")
    return (
        "# Generated by `nox -s k8s-values` from compose/stack/grafana/provisioning/datasources:"
        " do not edit.\n" + text
    )


def chart_files() -> dict[str, Path]:
    """The lab's files the chart reads, as they are (its files/ folder) -> the lab's own copy."""
    found: dict[str, Path] = {}
    for release in releases():
        for service in compose_services(release).values():
            for file in mounts(release.compose_file.parent, service)[0]:
                source = Path(file["source"])
                assert found.setdefault(file["file"], source) == source, file
    for source in [*dashboards(), SLO_RULES]:
        found[file_key(source)] = source
    return found


def own_images(releases: list[Release]) -> list[str]:
    """The lab's own images (built by compose, in no registry) the releases run."""
    found = [
        w["image"] for r in releases for w in release_values(r)["workloads"] if w["own"]
    ]  # fmt: skip
    return list(dict.fromkeys(found))


def render(release: Release) -> str:
    source = f"compose/{release.compose}/compose.yaml" + (" and stages.toml" if release.app else "")
    header = (
        f"# The lab chart's release {release.name}:"
        f" `helm install {release.name} deploy/kubernetes/lab"
        f" -f {release.values_file.relative_to(ROOT)}`.\n"
        f"# Generated by `nox -s k8s-values` from {source}: do not edit.\n"
    )
    return header + yaml.safe_dump(release_values(release), sort_keys=False, width=100)


def write() -> list[Path]:
    written = []
    shutil.rmtree(FILES, ignore_errors=True)
    FILES.mkdir(parents=True)
    for name, source in chart_files().items():
        shutil.copyfile(source, FILES / name)
        written.append(FILES / name)
    (FILES / DATASOURCES_KEY).write_text(cluster_datasources())
    written.append(FILES / DATASOURCES_KEY)
    for release in releases():
        release.values_file.write_text(render(release))
        written.append(release.values_file)
    return written


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
