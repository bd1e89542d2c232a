"""The lab in containers: image sizes against their base, the disk all images take, build times
without and with the layer cache, `up --wait` time per stage, and each container's peak memory
under traffic-gen against its mem_limit. Compared side by side in one run; ratios reported.

Runs the lab as the container tests do (tests/docker/overrides.py: local stand-ins where a pinned
image cannot be pulled; where it can, the real images). It stops every stage it starts, and leaves
the stack as `nox -s down` would.

    uv run --group bench python benchmarks/containers.py [--users 20] [--seconds 30]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository's test helpers (tests/docker)

from tests.config.repo_files import dockerfile_base_images, load_yaml  # noqa: E402
from tests.docker import standins  # noqa: E402
from tests.docker.lab import bytes_above, image_size  # noqa: E402
from tests.docker.overrides import images_compose, write_overrides  # noqa: E402
from tools.doctor import mebibytes  # noqa: E402

MIB = 1024**2
MB = 1000**2
STAGES = [f"stage{n}" for n in range(1, 7)]
# The whole-lab goal; what has neither its image nor a stand-in counts at its mem_limit.
BUDGET_MIB = 1.5 * 1024


def sh(*args: str, env: dict | None = None, timeout: float = 1800) -> str:
    result = subprocess.run(
        args, capture_output=True, text=True, env=env, timeout=timeout, check=False, cwd=ROOT
    )
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return result.stdout


def timed(*args: str, env: dict | None = None) -> float:
    start = time.perf_counter()
    sh(*args, env=env)
    return time.perf_counter() - start


def limits_mib(folder: str) -> dict[tuple[str, str], float]:
    """(compose project, service) -> mem_limit in MiB, from the compose file."""
    document = load_yaml(ROOT / "compose" / folder / "compose.yaml")
    return {
        (document["name"], name): mebibytes(service["mem_limit"])
        for name, service in document["services"].items()
    }


def sample_memory(stop: threading.Event, peaks: dict[str, float]) -> None:
    """Peak memory per container name, from `docker stats` every second until `stop`."""
    while not stop.is_set():
        out = sh("docker", "stats", "--no-stream", "--format", "{{json .}}")
        for line in out.splitlines():
            row = json.loads(line)
            used = row["MemUsage"].split("/")[0].strip()
            value, unit = float(used.rstrip("KMGiB")), used.lstrip("0123456789.").strip()
            mib = value * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "B": 1 / MIB}[unit]
            peaks[row["Name"]] = max(peaks.get(row["Name"], 0), mib)
        stop.wait(1)


def service_of(container: str) -> tuple[str, str]:
    labels = json.loads(sh("docker", "inspect", "--format", "{{json .Config.Labels}}", container))
    return labels["com.docker.compose.project"], labels["com.docker.compose.service"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="traffic-gen users (the chapters')")
    parser.add_argument("--seconds", type=float, default=30, help="traffic per stage")
    options = parser.parse_args()

    overrides = write_overrides(Path(tempfile.mkdtemp(prefix="lab-bench-")))
    env = {**os.environ, "LAB_COMPOSE_OVERRIDES": str(overrides)}
    nox = ("uv", "run", "--locked", "nox", "-s")
    images = images_compose(overrides)

    print("## Builds (stage6 image)")
    build = ("docker", "compose", "-f", str(images), "build")
    no_cache = timed(*build, "--no-cache", "stage6")
    warm = timed(*build, "stage6")
    source = ROOT / "packages/stage6/src/stage6/__init__.py"
    original = source.read_text()
    try:  # one new line of the member's source (new each run: a cached layer would not count)
        source.write_text(original + f"# benchmark edit {time.time_ns()}\n")
        touched = timed(*build, "stage6")
    finally:
        source.write_text(original)
    print(f"  no layer cache (wheel cache kept): {no_cache:.1f} s")
    print(f"  after a source change: {touched:.1f} s ({touched / no_cache:.2f} x)")
    print(f"  nothing changed: {warm:.1f} s ({warm / no_cache:.2f} x)")
    # Every image afresh: the uncached stage6 build above made layers of its own, which the
    # others (built before it) do not share; built together, all share the same ones.
    sh(*build, "--no-cache", timeout=3600)

    print("\n## Image sizes")
    base = standins.resolve(dockerfile_base_images()["PYTHON_IMAGE"])
    base_size = image_size(base)
    print(f"  base {base}: {base_size / MB:.0f} MB")
    members = load_yaml(images)["services"]
    for name, service in sorted(members.items()):
        ours = image_size(service["image"])
        print(f"  {name}: {ours / MB:.0f} MB, {(ours - base_size) / MB:.0f} above the base "
              f"({ours / base_size:.2f} x)")  # fmt: skip
    together = bytes_above(base, [service["image"] for service in members.values()])
    print(f"  all {len(members)} images together, shared layers once: {together / MB:.0f} MB "
          "above the base")  # fmt: skip

    print("\n## up --wait and memory under traffic-gen")
    sh(*nox, "down", env=env)
    sh(*nox, "stack", env=env)
    held_back = {name for name, s in load_yaml(overrides / "stack.yaml")["services"].items()
                if "profiles" in s}  # fmt: skip
    stack_limits = limits_mib("stack")
    for folder in STAGES:
        up = timed(*nox, f"stage-{folder.removeprefix('stage')}", env=env)
        peaks: dict[str, float] = {}
        stop = threading.Event()
        sampler = threading.Thread(target=sample_memory, args=(stop, peaks))
        sampler.start()
        target = f"stage-{folder.removeprefix('stage')}"
        sh("uv", "run", "--locked", "traffic-gen", "--target", target, "--users",
           str(options.users), "--duration", str(options.seconds), "--json")  # fmt: skip
        stop.set()
        sampler.join()
        limits = {**stack_limits, **limits_mib(folder)}
        print(f"  {target}: up --wait {up:.1f} s")
        total = 0.0
        for container, peak in sorted(peaks.items()):
            limit = limits.get(service_of(container))
            if limit is None:
                continue  # not the stack's, nor this stage's
            total += peak
            flag = "" if peak < 0.6 * limit else "  <- over 60%"
            print(f"    {container}: {peak:.0f} MiB of {limit:.0f} ({peak / limit:.0%}){flag}")
        absent = sum(stack_limits[("observability-lab", name)] for name in held_back)
        print(f"    started: {total:.0f} MiB; with the limits of what was not started "
              f"({', '.join(sorted(held_back))}): {total + absent:.0f} MiB "
              f"({(total + absent) / BUDGET_MIB:.0%} of 1.5 GiB)")  # fmt: skip
        sh("docker", "compose", "--env-file", ".env", "-f", f"compose/{folder}/compose.yaml",
           "-f", str(overrides / f"{folder}.yaml"), "down")  # fmt: skip
    sh(*nox, "down", env=env)


if __name__ == "__main__":
    main()
