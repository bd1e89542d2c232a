"""`nox -s doctor`: what must hold before the stack can start, each failure one line with its fix.

Run by itself and by every session that starts containers, before compose runs. Docker's own
`docker compose up` reports a busy port or a missing engine only after pulling and building, and a
wrong socket group not at all (Prometheus and Alloy then discover nothing while every healthcheck
passes), so these are checked first.
"""

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import lab_stages
import yaml

DOCKER_SOCKET = "/var/run/docker.sock"
MIN_FREE_DISK_GIB = 5  # images (about 3 GiB for the stack and one stage) plus volumes
GIB = 1024**3


@dataclass
class Check:
    ok: bool
    line: str


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def engine_info() -> dict | None:
    """`docker info` as JSON, or None when no engine answers."""
    result = docker("info", "--format", "{{json .}}", timeout=30)
    if result.returncode != 0:
        return None
    try:
        info = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None
    return info if info.get("ServerVersion") else None


def compose_version() -> Check:
    result = docker("compose", "version", "--short", timeout=30)
    version = result.stdout.strip().removeprefix("v")
    if result.returncode != 0 or not version:
        return Check(False, "docker compose v2 not found: install Docker's compose plugin")
    if not version.startswith("2."):
        return Check(False, f"docker compose {version} found, v2 needed: update the compose plugin")
    return Check(True, f"docker compose {version}")


def compose_services(files: Iterable[Path]) -> Iterable[tuple[str, str, dict]]:
    """(compose project, service name, service) for every service of the files."""
    for path in files:
        document = yaml.safe_load(path.read_text())
        for name, service in document["services"].items():
            yield document.get("name", path.parent.name), name, service


def published_ports(files: Iterable[Path]) -> dict[int, tuple[str, str]]:
    """host port -> (compose project, service) for the short "127.0.0.1:host:container" form."""
    ports = {}
    for project, name, service in compose_services(files):
        for mapping in service.get("ports", []):
            ports[int(str(mapping).split(":")[-2])] = (project, name)
    return ports


def container_publishing(port: int) -> tuple[str, str, str] | None:
    """(container, compose project, compose service) of a running container publishing `port`."""
    result = docker(
        "ps",
        "--format",
        '{{.Names}}\t{{.Label "com.docker.compose.project"}}\t'
        '{{.Label "com.docker.compose.service"}}\t{{.Ports}}',
    )
    for line in result.stdout.splitlines():
        name, project, service, ports = [*line.split("\t"), "", "", ""][:4]
        if re.search(rf":{port}->", ports):
            return name, project, service
    return None


def process_listening(port: int) -> str | None:
    """The program listening on `port`, where lsof or ss can tell (not always, for others' ones)."""
    if shutil.which("lsof"):
        out = subprocess.run(
            ["lsof", "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fc"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        names = [line[1:] for line in out.splitlines() if line.startswith("c")]
        if names:
            return names[0]
    if shutil.which("ss"):
        out = subprocess.run(
            ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
        ).stdout
        found = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
        if found:
            return f"{found.group(1)} (pid {found.group(2)})"
    return None


def port_is_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:`port`. Connections of a service just stopped may linger in
    TIME_WAIT for a minute; they do not stop a new listener (SO_REUSEADDR): the port is free."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_checks(files: list[Path]) -> list[Check]:
    checks = []
    ports = published_ports(files)
    for port, (project, service) in sorted(ports.items()):
        if port_is_free(port):
            continue
        holder = container_publishing(port)
        if holder and holder[1:] == (project, service):
            checks.append(Check(True, f"port {port}: already {project}/{service}'s"))
            continue
        if holder:
            what, fix = f"container {holder[0]}", f"docker stop {holder[0]}"
        else:
            program = process_listening(port)
            what = program or "another program"
            fix = "stop it"
        checks.append(Check(False, f"port {port} ({service}) is held by {what}: {fix}, then retry"))
    if not checks or all(check.ok for check in checks):
        checks.append(Check(True, f"ports free: {len(ports)} checked"))
    return checks


def apps_named(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The stages and demo apps named on doctor's command line, and a hint for each old spelling.

    `stage2` (the package's spelling, which doctor took before) still works, with a hint;
    a name that is neither raises LookupError listing the choices.
    """
    old_spellings = {app.package: app.name for app in lab_stages.apps()}
    old_spellings.update({app.compose: app.name for app in lab_stages.apps()})
    apps, hints = [], []
    for name in names:
        if name not in lab_stages.names() and name in old_spellings:
            hints.append(f"`{name}` is spelled `{old_spellings[name]}` now")
            name = old_spellings[name]
        apps.append(lab_stages.app(name).name)
    return apps, hints


def mebibytes(limit: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg])b?", str(limit).lower()).groups()
    return int(number) * {"k": 1 / 1024, "m": 1, "g": 1024}[unit]


def memory_check(info: dict, files: list[Path]) -> Check:
    needed = sum(mebibytes(s["mem_limit"]) for _, _, s in compose_services(files))
    available = info.get("MemTotal", 0) / 1024**2
    if available < needed:
        return Check(
            False,
            f"Docker has {available / 1024:.1f} GiB of memory, these containers may use "
            f"{needed / 1024:.1f} GiB: give Docker more (Docker Desktop: Settings > Resources)",
        )
    return Check(True, f"memory: {available / 1024:.1f} GiB for {needed / 1024:.1f} GiB of limits")


def disk_check(info: dict) -> Check:
    root = Path(info.get("DockerRootDir") or "/var/lib/docker")
    where = root if root.exists() else Path.cwd()  # Docker Desktop keeps it inside its VM
    free = shutil.disk_usage(where).free / GIB
    if free < MIN_FREE_DISK_GIB:
        return Check(
            False,
            f"{free:.1f} GiB free on {where}, about {MIN_FREE_DISK_GIB} GiB needed: free some "
            "space (docker system prune removes unused images)",
        )
    return Check(True, f"disk: {free:.0f} GiB free on {where}")


def socket_group(info: dict, probe_image: str) -> tuple[str, str]:
    """The group owning the engine's socket as containers see it, and how it was found.

    Containers, not the host, must read the socket (Prometheus's and Alloy's Docker discovery).
    On Docker Desktop the host's socket is a symlink owned by the user's group while containers
    see root's; so the socket is stat'ed from inside a container of an image the stack pulls
    anyway. Where that cannot run: 0 on Docker Desktop, else the host socket's group.
    """
    probe = docker(
        "run",
        "--rm",
        "--network=none",
        "--user=65534:65534",
        "--entrypoint=stat",
        f"--volume={DOCKER_SOCKET}:{DOCKER_SOCKET}:ro",
        probe_image,
        "-c",
        "%g",
        DOCKER_SOCKET,
        timeout=300,
    )
    group = probe.stdout.strip()
    if probe.returncode == 0 and group.isdigit():
        return group, f"stat inside a {probe_image} container"
    if "docker desktop" in str(info.get("OperatingSystem", "")).lower():
        return "0", "Docker Desktop: containers see the socket as root's"
    host = Path(DOCKER_SOCKET)
    if host.exists():
        return str(host.stat().st_gid), f"the host's {DOCKER_SOCKET}"
    return "0", f"no {DOCKER_SOCKET} on this host: assuming root's group"


def secrets_kept_in_volumes(files: Iterable[Path]) -> dict[str, list[str]]:
    """.env variable -> the named volumes whose data was made with it (PostgreSQL's passwords and
    roles, Grafana's admin password: each read only when its volume is first initialised)."""
    kept: dict[str, list[str]] = {}
    for project, _, service in compose_services(files):
        named = [f"{project}_{volume}" for volume in named_volumes(service)]
        for value in (service.get("environment") or {}).values():
            for variable in re.findall(r"\$\{(\w+)", str(value)):
                kept.setdefault(variable, []).extend(named)
    return {variable: volumes for variable, volumes in kept.items() if volumes}


def named_volumes(service: dict) -> list[str]:
    """The named volumes a compose service mounts: "name:/path" in the short form, type volume in
    the long one; bind mounts ("./file:/path", or stage 3's long-form dice file) are not."""
    names = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "volume" and volume.get("source"):
                names.append(volume["source"])
        elif not (source := volume.split(":")[0]).startswith(("./", "/")):
            names.append(source)
    return names


def volume_exists(name: str) -> bool:
    return docker("volume", "inspect", name, timeout=30).returncode == 0


def wait_for_engine(wait_seconds: float) -> dict | None:
    """`docker info`, retried for up to `wait_seconds` (an engine that is still starting)."""
    deadline = time.monotonic() + wait_seconds
    while (info := engine_info()) is None and time.monotonic() < deadline:
        time.sleep(2)
    return info


def engine_check(wait_seconds: float = 0) -> tuple[Check, dict]:
    """Docker installed and its engine answering (`docker info`), with the engine's info."""
    if shutil.which("docker") is None:
        return Check(
            False, "docker is not installed: install Docker with compose v2, then retry"
        ), {}
    info = wait_for_engine(wait_seconds)
    if info is None:
        return Check(False, "no Docker engine answers `docker info`: start Docker, then retry"), {}
    system = info.get("OperatingSystem", "unknown OS")
    return Check(True, f"Docker engine {info['ServerVersion']} ({system})"), info


def run(files: list[Path], probe_image: str, wait_seconds: float = 0) -> tuple[list[Check], str]:
    """Every check for starting `files`, and the socket group ("" when no engine answers)."""
    engine, info = engine_check(wait_seconds)
    if not engine.ok:
        return [engine], ""
    checks = [engine, compose_version(), *port_checks(files)]
    checks += [memory_check(info, files), disk_check(info)]
    group, how = socket_group(info, probe_image)
    checks.append(Check(True, f"Docker socket group as containers see it: {group} ({how})"))
    return checks, group
