"""compose/IMAGES.md executed: each pinned image (where no registry serves it, its stand-in) has the
user, entrypoint, data directory (owner and mode) and programs its row says. A stand-in may carry
more programs than the real image (a Debian base has bash): that cannot hide a healthcheck the real
image could not run, since tests/config/test_images.py holds every healthcheck to the row.
"""

import json
import subprocess
import tarfile
from collections.abc import Iterator

import pytest

from tests.config.test_images import FLAG_COLUMNS, image_facts
from tests.docker import standins
from tests.docker.lab import run

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

NAMED_USERS = {"nobody": "65534", "root": "0", "postgres": "999", "": "0", "-": "0"}


def uid(user: str) -> str:
    name = user.split(":")[0].split(" ")[0]
    return NAMED_USERS.get(name, name)


def first_entry(container: str, path: str) -> tarfile.TarInfo | None:
    """The tar header `docker cp` gives for `path` in a container (owner, mode), None if missing."""
    copy = subprocess.Popen(
        ["docker", "cp", f"{container}:{path}", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with tarfile.open(fileobj=copy.stdout, mode="r|") as archive:
            return next(iter(archive), None)
    except tarfile.ReadError:
        return None
    finally:
        copy.kill()
        copy.wait()


@pytest.fixture
def created() -> Iterator:
    """Create (never start) a container of an image, to read its files."""
    names: list[str] = []

    def create(image: str) -> str:
        name = run(["docker", "create", image], timeout=120).stdout.strip()
        names.append(name)
        return name

    yield create
    for name in names:
        run(["docker", "rm", "--force", name], timeout=60)


def program_paths(program: str, path_env: str) -> list[str]:
    if program.startswith("/"):
        return [program]
    return [f"{directory}/{program}" for directory in path_env.split(":")]


@pytest.mark.parametrize("name", sorted(image_facts()))
def test_each_image_that_runs_here_is_what_its_row_says(lab, name: str, created) -> None:
    row = image_facts()[name]
    pinned = f"{name}:{row['tag']}"
    try:
        image = standins.resolve(pinned)
    except LookupError as unavailable:
        pytest.skip(f"{unavailable}: the GitHub workflow, which pulls it, checks its row")
    config = json.loads(run(["docker", "image", "inspect", image]).stdout)[0]["Config"]

    assert uid(config.get("User") or "") == uid(row["user"]), f"{image}: USER {config['User']!r}"
    entrypoint = (config.get("Entrypoint") or ["-"])[0]
    assert entrypoint == row["entrypoint"], f"{image}: ENTRYPOINT {config.get('Entrypoint')}"

    container = created(image)
    if row["data dir"] != "-":
        directory, owner, mode = row["data dir"].split(" ")
        entry = first_entry(container, directory)
        assert entry is not None and entry.isdir(), f"{image}: no directory {directory}"
        assert f"{entry.uid}:{entry.gid}" == owner, f"{image}: {directory} is {entry.uid}"
        assert f"{entry.mode & 0o7777:04o}" == mode, f"{image}: {directory} mode {entry.mode:o}"

    path_env = next(
        (v.split("=", 1)[1] for v in config.get("Env") or [] if v.startswith("PATH=")), "/bin"
    )
    listed = [p.strip() for p in row["programs"].split(",")]
    programs = listed + [flag for flag in FLAG_COLUMNS if row[flag] == "yes"]
    missing = [
        program
        for program in programs
        if not any(first_entry(container, path) for path in program_paths(program, path_env))
    ]
    assert not missing, f"{image} lacks {missing} (its row in compose/IMAGES.md lists them)"
