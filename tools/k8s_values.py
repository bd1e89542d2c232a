"""The Helm chart's per-stage values, derived from the registry and the compose files.

`nox -s k8s-values` writes deploy/kubernetes/lab/values-stage-N.yaml and copies the files the
chart mounts (stage 5's init.sql, the lab's dice.json) into its files/ folder; the compose files
and stages.toml stay the one source. tests/config/test_kubernetes.py holds the written files to
what this derives, and the rendered manifests to the compose files.

From each compose service: its container_name as the Kubernetes name (what the others call it by,
so the environment's URLs work unchanged), image, command (the image's CMD: `args`), environment
(a required variable `${NAME:?...}` becomes `$(NAME)`, NAME read from the Secret the user
creates), `lab.*` labels as pod annotations, mem_limit as the memory limit, user, read_only and
tmpfs (emptyDir in memory), an HTTP healthcheck as an httpGet probe (any other as an exec probe),
read-only bind mounts of the lab's files as ConfigMap files, and a named volume as a
PersistentVolumeClaim of a StatefulSet.
"""

import re
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "packages" / "lab-stages" / "src",):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
import lab_stages  # noqa: E402

CHART = ROOT / "deploy" / "kubernetes" / "lab"
FILES = CHART / "files"
# The user of an image pulled by name in compose (`user: postgres`): the official postgres
# image creates postgres with uid and gid 999. Kubernetes needs the numbers to check non-root.
NAMED_USERS = {"postgres": (999, 999)}
REQUIRED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?[^}]*\}")
REPLACEABLE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:-([^}]+)\}$")
LOCAL_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/[^'\"\s]*)")
MEMORY = re.compile(r"^(\d+)([kmg])$")


def compose_services(app: lab_stages.App) -> dict[str, dict]:
    path = ROOT / "compose" / app.compose / "compose.yaml"
    return yaml.safe_load(path.read_text())["services"]


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
            files.append({"file": path.name, "mountPath": target, "source": str(path)})
        else:
            data = {"mountPath": target, "volume": source}
    return files, data


def workload(app: lab_stages.App, compose_name: str, service: dict, secret: str) -> dict:
    registered = app.find(compose_name)
    container = service["container_name"]
    uid, gid = user_of(service)
    env, _ = environment(service)
    files, data = mounts(ROOT / "compose" / app.compose, service)
    ports = []
    if registered:
        ports.append({"name": "http" if registered.kind != "database" else "db",
                      "containerPort": registered.container_port})  # fmt: skip
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
        found["files"] = [{"file": f["file"], "mountPath": f["mountPath"]} for f in files]
    if data:
        # The claim mounted one folder up: a new claim's root belongs to root and may hold
        # lost+found, which initdb refuses; the compose mount's folder (postgres's PGDATA) is
        # then made inside it by the container's user, the environment left as compose has it.
        found["data"] = {"mountPath": str(Path(data["mountPath"]).parent)}
    if registered and registered.port:
        found["localPort"] = registered.port
    return found


def stage_values(app: lab_stages.App) -> dict:
    services = compose_services(app)
    secrets = sorted({key for s in services.values() for key in environment(s)[1]})
    secret = f"lab-{app.name}" if secrets else ""
    values: dict = {"stage": app.stage}
    if secret:
        values["secret"] = {"name": secret, "keys": secrets}
    values["workloads"] = [workload(app, name, s, secret) for name, s in services.items()]
    return values


def chart_files() -> dict[str, Path]:
    """The files the chart mounts (its files/ folder) -> the lab's own copy."""
    found: dict[str, Path] = {}
    for app in lab_stages.stages():
        for service in compose_services(app).values():
            for file in mounts(ROOT / "compose" / app.compose, service)[0]:
                source = Path(file["source"])
                assert found.setdefault(file["file"], source) == source, file
    return found


def values_file(app: lab_stages.App) -> Path:
    return CHART / f"values-stage-{app.stage}.yaml"


def render(app: lab_stages.App) -> str:
    header = (
        f"# {app.name}'s release of the lab chart: `helm install {app.name} deploy/kubernetes/lab"
        f" -f {values_file(app).relative_to(ROOT)}`.\n"
        f"# Generated by `nox -s k8s-values` from compose/{app.compose}/compose.yaml and"
        " stages.toml: do not edit.\n"
    )
    return header + yaml.safe_dump(stage_values(app), sort_keys=False, width=100)


def write() -> list[Path]:
    written = []
    FILES.mkdir(parents=True, exist_ok=True)
    for name, source in chart_files().items():
        shutil.copyfile(source, FILES / name)
        written.append(FILES / name)
    for app in lab_stages.stages():
        values_file(app).write_text(render(app))
        written.append(values_file(app))
    return written


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
