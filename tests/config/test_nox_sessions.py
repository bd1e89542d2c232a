"""Sessions that need Docker stop with one line saying what to do when no engine answers."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config.repo_files import REPO


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.parametrize("session", ["stack", "stage-3", "clean", "http-console"])
def test_without_an_engine_a_docker_session_says_what_to_do(session: str, tmp_path) -> None:
    if engine_answers():
        pytest.skip("a Docker engine answers here: this session would really start the stack")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "nox"), "-s", session, "--no-color"],  # as `uv run nox`
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    aborted = [line for line in result.stderr.splitlines() if "aborted" in line]
    assert len(aborted) == 1, result.stderr
    assert (
        "no Docker engine answers `docker info`: start Docker, then retry" in aborted[0]
        or "docker is not installed" in aborted[0]
    )
    assert "Traceback" not in result.stderr
