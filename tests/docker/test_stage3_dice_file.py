"""Stage 3's die-service serves the dice file its compose file mounts: the lab's own by default,
a learner's copy where STAGE3_DICE_FILE names one, under the container's hardening (read-only
root, user 10001). tutorials/stage-3.md's problem, "the loaded die seems fair", is caused so.

    uv run pytest tests/docker/test_stage3_dice_file.py -m docker
"""

import json
from pathlib import Path

import httpx
import lab_stages
import pytest
from lab_dice.dice import DICE_FILE, load_dice

from tests.docker.lab import Lab, run

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

STAGE = lab_stages.app("stage-3")
DIE_SERVICE = STAGE.service("die-service")


def learners_copy(directory: Path) -> tuple[Path, list[float]]:
    """The lab's dice with the loaded die's weights changed: a learner's edited copy."""
    dice = json.loads(DICE_FILE.read_text())
    weights = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    (loaded,) = [die for die in dice if die["name"] == "loaded"]
    loaded["weights"] = weights
    copy = directory / "my-dice.json"
    copy.write_text(json.dumps(dice))
    copy.chmod(0o644)  # what a shell's `>` makes under the usual umask: others may read it
    return copy, weights


def environment(lab: Lab, **variables: str) -> dict[str, str]:
    """The lab's environment without any STAGE3_DICE_FILE of this shell's, plus `variables`."""
    env = {key: value for key, value in lab.env.items() if key != "STAGE3_DICE_FILE"}
    return {**env, **variables}


def up_stage3(lab: Lab, **variables: str) -> dict:
    """Stage 3 as the chapter starts it, `STAGE3_DICE_FILE=... uv run nox -s stage-3`, with
    `variables`; what its die-service answers to GET /dice/loaded on its published port."""
    lab.nox("-s", STAGE.name, env=environment(lab, **variables))
    response = httpx.get(f"{DIE_SERVICE.url}/dice/loaded", timeout=10)
    response.raise_for_status()
    return response.json()


def mounts(container: str) -> list[tuple[str, str, bool]]:
    """(host source, container destination, writable) of each mount of a container."""
    found = json.loads(run(["docker", "inspect", "--format", "{{json .Mounts}}", container]).stdout)
    return [(mount["Source"], mount["Destination"], mount["RW"]) for mount in found]


def test_stage3s_die_service_serves_the_file_stage3_dice_file_names(lab: Lab, tmp_path) -> None:
    copy, weights = learners_copy(tmp_path)
    try:
        served = up_stage3(lab, STAGE3_DICE_FILE=str(copy))
        assert served["weights"] == weights, served
        assert mounts(DIE_SERVICE.container) == [(str(copy), "/etc/lab/dice.json", False)]

        # Without the variable, the lab's own dice again: compose recreates the container.
        served = up_stage3(lab)
        assert served == load_dice(DICE_FILE)["loaded"].model_dump(), served
        (source, _, writable) = mounts(DIE_SERVICE.container)[0]
        assert (Path(source), writable) == (DICE_FILE, False)
    finally:
        lab.compose(STAGE.compose, "down")


def test_a_stage3_dice_file_that_is_not_there_stops_compose_and_makes_nothing(
    lab: Lab, tmp_path
) -> None:
    # The mount's long form: a mistyped path is an error, not a directory made in its place.
    lab.nox("-s", "stack")
    missing = tmp_path / "no-such-dice.json"
    try:
        result = lab.compose(
            STAGE.compose, "up", "--detach", "die-service",
            env=environment(lab, STAGE3_DICE_FILE=str(missing)), check=False,
        )  # fmt: skip
        assert result.returncode != 0, result.stdout + result.stderr
        assert not missing.exists(), "compose made the missing path"
    finally:
        lab.compose(STAGE.compose, "down")
