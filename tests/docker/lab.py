"""The lab in containers, driven as a learner drives it: nox sessions and docker compose, with the
overrides of overrides.py passed through LAB_COMPOSE_OVERRIDES where pinned images cannot be pulled.
"""

import json
import os
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from dotenv import dotenv_values
from lab_telemetry.testing import poll_until

from tests.config.repo_files import REPO
from tests.docker.overrides import services_held_back

PROMETHEUS = "http://127.0.0.1:9090"
ENV_FILE = REPO / ".env"


def run(args: list[str], timeout: float = 900, **kwargs) -> subprocess.CompletedProcess:
    """Run a command to completion; on failure the assertion shows what it printed."""
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-4000:]}"
        f"\n{result.stderr[-4000:]}"
    )
    return result


@dataclass
class Container:
    name: str
    service: str
    status: str
    labels: dict[str, str]


@dataclass
class Lab:
    overrides: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "LAB_COMPOSE_OVERRIDES": str(self.overrides)}

    def nox(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        command = ["uv", "run", "--locked", "nox", *args]
        if check:
            return run(command, cwd=REPO, env=kwargs.pop("env", self.env), **kwargs)
        return subprocess.run(
            command, cwd=REPO, env=kwargs.pop("env", self.env), capture_output=True, text=True,
            timeout=kwargs.pop("timeout", 900), check=False, **kwargs,
        )  # fmt: skip

    def compose(
        self,
        folder: str,
        *args: str,
        timeout: float = 900,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess:
        """docker compose on compose/<folder>/compose.yaml with its override, as nox runs it;
        `env`, where given, is the whole environment compose sees (its variables included)."""
        files = ["-f", str(REPO / "compose" / folder / "compose.yaml")]
        override = self.overrides / f"{folder}.yaml"
        if override.exists():
            files += ["-f", str(override)]
        command = ["docker", "compose", "--env-file", str(ENV_FILE), *files, *args]
        if check:
            return run(command, cwd=REPO, timeout=timeout, env=env)
        return subprocess.run(
            command, cwd=REPO, timeout=timeout, env=env, capture_output=True, text=True,
            check=False,
        )  # fmt: skip

    def held_back(self, folder: str) -> list[str]:
        return services_held_back(self.overrides, folder)

    def secret(self, name: str) -> str:
        return dotenv_values(ENV_FILE)[name]


def containers(project: str) -> list[Container]:
    """Every container of a compose project, running or not, with its health in `status`."""
    listing = run(
        ["docker", "ps", "--all", "--filter", f"label=com.docker.compose.project={project}",
         "--format", "{{json .}}"],
        timeout=60,
    ).stdout  # fmt: skip
    found = []
    for line in listing.splitlines():
        row = json.loads(line)
        labels = dict(pair.split("=", 1) for pair in row["Labels"].split(",") if "=" in pair)
        found.append(
            Container(row["Names"], labels["com.docker.compose.service"], row["Status"], labels)
        )
    return found


def prometheus(query: str) -> list[dict]:
    response = httpx.get(f"{PROMETHEUS}/api/v1/query", params={"query": query}, timeout=10)
    response.raise_for_status()
    return response.json()["data"]["result"]


def wait_for_series(query: str, timeout: float = 120) -> list[dict]:
    return poll_until(lambda: prometheus(query), timeout=timeout, what=f"series for {query}")


def container_logs(name: str) -> list[dict]:
    """The JSON lines a container wrote to stdout."""
    out = run(["docker", "logs", name], timeout=60).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def export_failure_lines(container: str) -> list[str]:
    """What a container said of failed telemetry exports (its stdout and stderr)."""
    logs = run(["docker", "logs", container], timeout=60)
    return [
        line
        for line in (logs.stdout + logs.stderr).splitlines()
        if '"logger": "opentelemetry' in line or "export" in line.lower()
    ]


def uptime_seconds(container: str) -> float:
    started = run(["docker", "inspect", "--format", "{{.State.StartedAt}}", container]).stdout
    return time.time() - datetime.fromisoformat(started.strip().replace("Z", "+00:00")).timestamp()


def image_size(image: str) -> int:
    """An image's size in bytes as the engine reports it (its layers, shared ones included)."""
    return int(run(["docker", "image", "inspect", "--format", "{{.Size}}", image]).stdout)


def layers(image: str) -> set[tuple[str, int]]:
    """An image's layers as its history lists them (when, by which step, bytes): images built
    from the same cached step share the entry, as they share the layer on disk."""
    lines = run(
        ["docker", "history", "--no-trunc", "--human=false",
         "--format", "{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}", image]
    ).stdout.splitlines()  # fmt: skip
    entries = (line.rsplit("\t", 1) for line in lines)
    return {(when_by, int(size)) for when_by, size in entries if int(size) > 0}


def bytes_above(base: str, images: list[str]) -> int:
    """What `images` take on disk beyond `base`, each shared layer counted once."""
    ours = set().union(*(layers(image) for image in images)) - layers(base)
    return sum(size for _, size in ours)
