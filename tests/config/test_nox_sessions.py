"""Sessions that need Docker stop with one line saying what to do when no engine answers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config.repo_files import REPO


@pytest.mark.parametrize("session", ["stack", "stage-3", "clean", "http-console"])
def test_without_an_engine_a_docker_session_says_what_to_do(session: str, tmp_path) -> None:
    # An engine that is not there, even on a machine where one runs.
    no_engine = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "nox"), "-s", session, "--no-color"],  # as `uv run nox`
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=no_engine,
    )
    assert result.returncode != 0
    aborted = [line for line in result.stderr.splitlines() if "aborted" in line]
    assert len(aborted) == 1, result.stderr
    assert (
        "no Docker engine answers `docker info`: start Docker, then retry" in aborted[0]
        or "docker is not installed" in aborted[0]
    )
    assert "Traceback" not in result.stderr
