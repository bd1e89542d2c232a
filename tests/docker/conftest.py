"""Fixtures of the container tests (`uv run nox -s smoke`): a real Docker engine, compose v2, and
the lab's own compose files, with overrides where the pinned images cannot be pulled
(tests/docker/overrides.py)."""

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.docker.lab import Lab
from tests.docker.overrides import write_overrides
from tests.support.prerequisites import require


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=60, check=False)
    return probe.returncode == 0


def compose_v2() -> bool:
    probe = subprocess.run(
        ["docker", "compose", "version", "--short"], capture_output=True, text=True, check=False
    )
    return probe.returncode == 0 and probe.stdout.strip().removeprefix("v").startswith("2.")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The lab's compose files ready to run on this engine, from no data (`nox -s clean`);
    everything started is stopped at the end."""
    require(engine_answers(), "no Docker engine answers `docker info` (.ci/run starts one)")
    require(compose_v2(), "docker compose v2 not found (.ci/run installs it from PyPI)")
    lab = Lab(write_overrides(tmp_path_factory.mktemp("compose-overrides")))
    # From a clean lab: data left by an earlier run may have been made with another .env.
    lab.nox("-s", "clean", timeout=600)
    yield lab
    if os.environ.get("SMOKE_KEEP_UP") != "1":
        lab.nox("-s", "down", timeout=600)
