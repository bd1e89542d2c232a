"""Every app member's image builds from the one Dockerfile, runs as the unprivileged user with the
member installed as a package, and its size is reported against the base it is built on."""

import json

import pytest

from tests.config.repo_files import REPO, dockerfile_base_images
from tests.docker import standins
from tests.docker.lab import Lab, run
from tests.docker.overrides import images_compose

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

REPORT = REPO / "benchmarks" / "results" / "containers.md"
MB = 1000**2


def image_size(image: str) -> int:
    return int(run(["docker", "image", "inspect", "--format", "{{.Size}}", image]).stdout)


def test_every_app_member_image_builds_runs_unprivileged_and_is_reported(lab: Lab) -> None:
    compose_file = images_compose(lab.overrides)
    members = json.loads(
        run(["docker", "compose", "-f", str(compose_file), "config", "--format", "json"]).stdout
    )["services"]
    run(["docker", "compose", "-f", str(compose_file), "build"], timeout=1700)

    base = standins.resolve(dockerfile_base_images()["PYTHON_IMAGE"])
    rows = []
    for name, service in sorted(members.items()):
        image = service["image"]
        config = json.loads(run(["docker", "image", "inspect", image]).stdout)[0]["Config"]
        assert config["User"] == "10001:10001", f"{image} runs as {config['User']!r}"
        installed = run(
            ["docker", "run", "--rm", "--read-only", "--cap-drop", "ALL", "--network", "none",
             "--entrypoint", "python", image, "-c",
             f"import importlib.metadata as m; print(m.version({name!r}))"],
            timeout=120,
        ).stdout.strip()  # fmt: skip
        assert installed == image.rpartition(":")[2], f"{image}: {name} {installed!r}"
        rows.append((name, image_size(image)))

    base_size = image_size(base)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(
        "### Image sizes\n\n"
        f"Built on `{base}` ({base_size / MB:.0f} MB).\n\n"
        "| member | size (MB) | above the base (MB) |\n|---|---|---|\n"
        + "".join(
            f"| {name} | {size / MB:.0f} | {(size - base_size) / MB:.0f} |\n" for name, size in rows
        )
    )
    print(REPORT.read_text())
