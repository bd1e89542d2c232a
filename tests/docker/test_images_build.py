"""Every app member's image builds from the one Dockerfile, runs as the unprivileged user with the
member installed as a package (Streamlit only in the frontends' images), and its size is
reported against the base it is built on, with what all of them take together."""

import json

import pytest

from tests.config.repo_files import REPO, dockerfile_base_images
from tests.docker import standins
from tests.docker.lab import Lab, bytes_above, image_size, run
from tests.docker.overrides import images_compose

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

REPORT = REPO / "benchmarks" / "results" / "containers.md"
MB = 1000**2


def test_every_app_image_builds_runs_unprivileged_and_is_reported(lab: Lab) -> None:
    compose_file = images_compose(lab.overrides)
    members = json.loads(
        run(["docker", "compose", "-f", str(compose_file), "config", "--format", "json"]).stdout
    )["services"]
    # The shared layers first, through one frontend image (the base and both dependency layers),
    # then the rest a few at a time: built all at once from nothing, a score of builds wait on
    # the same layers and on the same checksum of the build context, and on a busy machine
    # BuildKit gives up waiting ("flightcontrol: exceeded retry timeout").
    build = ["docker", "compose", "--parallel", "4", "-f", str(compose_file), "build"]
    run([*build, next(name for name in members if name.endswith("-frontend"))], timeout=1700)
    run(build, timeout=1700)

    base = standins.resolve(dockerfile_base_images()["PYTHON_IMAGE"])
    rows = []
    for service in sorted(members.values(), key=lambda service: service["image"]):
        image = service["image"]
        args = service["build"]["args"]
        config = json.loads(run(["docker", "image", "inspect", image]).stdout)[0]["Config"]
        assert config["User"] == "10001:10001", f"{image} runs as {config['User']!r}"
        # The member as a package, and Streamlit only where the frontend extra asked for it.
        probe = (
            "import importlib.metadata as m, importlib.util as u; "
            f"print(m.version({args['PACKAGE']!r}), u.find_spec('streamlit') is not None)"
        )
        installed = run(
            ["docker", "run", "--rm", "--read-only", "--cap-drop", "ALL", "--network", "none",
             "--entrypoint", "python", image, "-c", probe],
            timeout=120,
        ).stdout.split()  # fmt: skip
        frontend = args.get("DEPS") == "frontend"
        assert installed == [image.rpartition(":")[2], str(frontend)], f"{image}: {installed}"
        rows.append((image, image_size(image)))

    base_size = image_size(base)
    above = bytes_above(base, [image for image, _ in rows])
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(
        "### Image sizes\n\n"
        f"Built on `{base}` ({base_size / MB:.0f} MB).\n\n"
        "| image | size (MB) | above the base (MB) |\n|---|---|---|\n"
        + "".join(
            f"| {image} | {size / MB:.0f} | {(size - base_size) / MB:.0f} |\n"
            for image, size in rows
        )
        + f"\nAll {len(rows)} images together, each shared layer once: {above / MB:.0f} MB "
        "above the base.\n"
    )
    print(REPORT.read_text())
