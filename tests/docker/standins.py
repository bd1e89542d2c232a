"""Local stand-ins for the pinned images, where no registry the engine reaches serves them.

    uv run python -m tests.docker.standins   # resolve every image, building what cannot be pulled

`resolve` tries the real image first (already present, or pulled): where a registry answers (a
GitHub runner, a learner's laptop) the pinned images run and nothing is built. Where none does, it
builds a stand-in from Debian trixie's packages (a base made with debootstrap) or, for uv, from the
`uv` wheel on PyPI, laid out as the image's row in compose/IMAGES.md says; tests/docker/
test_image_facts.py runs each one against that row. Stand-ins are named lab-standin/*, never with an
upstream name, so nothing can take one for the real image. They replace the real images only
through the compose overrides of tests/docker/overrides.py, never in a compose file a learner runs.

What the stand-ins lack against the pinned images, and how the tests live with it:
- Prometheus is 2.53 (Debian trixie), the lab pins 3.14: 2.53 has no docker_sd
  `match_first_network` (2.54+), so the stand-in runs the stack's prometheus.yml without that one
  field; the two-network case stays with tests/integration/test_docker_discovery.py.
- Alertmanager is 0.28, postgres_exporter 0.17, PostgreSQL 17.x from Debian, Python 3.13.5: the lab
  uses nothing of the pinned versions they lack.
- Grafana, Loki, Tempo, Pyroscope and Alloy have no stand-in: Debian does not package them. The
  tests that need them run only where their images can be pulled.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.config import repo_files
from tests.config.repo_files import all_services

HERE = Path(__file__).resolve().parent / "standins"
BASE = "lab-standin/debian:trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
RECIPE = "lab.standin.recipe"

# Upstream image name (any tag) -> the folder under standins/ holding its stand-in's Dockerfile.
STANDINS = {
    "python": "python",
    "ghcr.io/astral-sh/uv": "uv",
    "prom/prometheus": "prometheus",
    "prom/alertmanager": "alertmanager",
    "quay.io/prometheuscommunity/postgres-exporter": "postgres-exporter",
    "postgres": "postgres",
}


def docker(*args: str, timeout: float = 900, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


def image_name(image: str) -> str:
    return image.rpartition(":")[0] if ":" in image.rsplit("/", 1)[-1] else image


def standin_tag(image: str) -> str:
    return f"lab-standin/{STANDINS[image_name(image)]}:trixie"


def present(image: str) -> bool:
    return docker("image", "inspect", image, timeout=30).returncode == 0


def resolve(image: str) -> str:
    """What runs for the pinned `image`: itself where the engine has it or can pull it, else its
    stand-in."""
    if present(image) or docker("pull", "--quiet", image).returncode == 0:
        return image
    if image_name(image) not in STANDINS:
        raise LookupError(f"{image} cannot be pulled and has no stand-in")
    tag = standin_tag(image)
    if built_recipe(tag) != recipe(image_name(image)):
        build(image_name(image), tag)
    return tag


def recipe(name: str) -> str:
    """A digest of a stand-in's folder: a changed recipe is rebuilt, not reused."""
    digest = hashlib.sha256()
    for path in sorted((HERE / STANDINS[name]).rglob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def built_recipe(tag: str) -> str | None:
    found = docker("image", "inspect", "--format", f'{{{{index .Config.Labels "{RECIPE}"}}}}', tag)
    return found.stdout.strip() if found.returncode == 0 else None


def build_base() -> None:
    """A minimal Debian trixie, made with debootstrap from Debian's mirror and imported as BASE."""
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap not found: apt-get install debootstrap (stand-ins need it)")
    with tempfile.TemporaryDirectory(dir="/var/tmp") as root:
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=ca-certificates", "trixie", root,
             DEBIAN_MIRROR],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        imported = docker("import", "-", BASE, stdin=tar.stdout)
        tar.wait()
        if imported.returncode != 0:
            raise RuntimeError(f"docker import of the trixie base failed: {imported.stderr}")


def pinned_images() -> list[str]:
    """Every image the lab runs or builds on that it does not build itself."""
    composed = {service["image"] for _, _, service in all_services() if "build" not in service}
    return sorted(composed | set(repo_files.dockerfile_base_images().values()))


def uv_version() -> str:
    """The uv version the Dockerfile pins (its UV_IMAGE default's tag)."""
    return repo_files.dockerfile_base_images()["UV_IMAGE"].rpartition(":")[2]


def unpack_uv_wheel(context: Path) -> None:
    """/uv and /uvx of the pinned version from PyPI's musllinux wheel: static, as in the image."""
    platform = f"{os.uname().machine}-unknown-linux-musl"
    with tempfile.TemporaryDirectory() as target:
        subprocess.run(
            ["uv", "pip", "install", "--quiet", "--no-deps", "--target", target,
             "--python-platform", platform, f"uv=={uv_version()}"],
            check=True, timeout=300,
        )  # fmt: skip
        for name in ("uv", "uvx"):
            shutil.copy2(Path(target, "bin", name), context / name)


def build(name: str, tag: str) -> None:
    folder = HERE / STANDINS[name]
    if folder.name != "uv" and not present(BASE):
        build_base()
    with tempfile.TemporaryDirectory() as context:
        shutil.copytree(folder, context, dirs_exist_ok=True)
        if folder.name == "uv":
            unpack_uv_wheel(Path(context))
        # The classic builder: these recipes need nothing of BuildKit's, and it needs no plugin.
        built = docker(
            "build", "--quiet", "--tag", tag, "--label", f"{RECIPE}={recipe(name)}", context,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )  # fmt: skip
    if built.returncode != 0:
        raise RuntimeError(f"building the stand-in {tag} failed:\n{built.stdout}{built.stderr}")


def main() -> None:
    for image in pinned_images():
        try:
            print(f"{image}: {resolve(image)}")
        except LookupError as missing:
            print(f"{image}: {missing}")


if __name__ == "__main__":
    main()
