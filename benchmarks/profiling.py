"""What continuous profiling costs stage 7's dice-roller: CPU, memory and bytes sent.

Three real stage 7 dice-rollers on 127.0.0.1, side by side in one run, beside one die-service on
a throwaway PostgreSQL: "off" (no PYROSCOPE_SERVER_ADDRESS: no agent at all), "100 Hz" (the
agent's default sample rate) and "20 Hz", each profiling agent pushing to a stand-in of
Pyroscope's push API of its own (tests/support/fake_pyroscope.py) that counts the bytes. Each
round drives every variant in turn, in a rotated order, with traffic-gen's stage 7 scenario as the
chapter runs it (`--users 5`) and at ten times it (`--users 50`), and reads the dice-roller's CPU
time from /proc before and after. The agent samples per second of wall time, not per request,
so CPU is reported both ways, and idle (no traffic) too. Memory: RSS after the rounds.

    uv run --group bench python benchmarks/profiling.py [--rounds 3] [--seconds 20]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's test helpers

from service_processes import BIN, rss_mib, start

from tests.support.fake_pyroscope import FakePyroscope
from tests.support.ports import free_port
from tests.support.postgres import create_cluster, postgres_bin

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LEVELS = {"chapter (5 users)": 5, "10x (50 users)": 50}
# Variant -> PYROSCOPE_SAMPLE_RATE (None: profiling off).
VARIANTS = {"off": None, "100 Hz": 100, "20 Hz": 20}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


@dataclass
class Variant:
    name: str
    process: subprocess.Popen
    url: str
    receiver: FakePyroscope | None
    # Per traffic level: (CPU seconds, requests, wall seconds) of each round.
    rounds: dict[str, list[tuple[float, int, float]]] = field(default_factory=dict)
    idle: list[float] = field(default_factory=list)  # CPU seconds per wall second, no traffic


def drive(variant: Variant, die_service: str, users: int, seconds: float) -> None:
    """traffic-gen's stage 7 scenario against this variant for `seconds`; CPU and requests."""
    before, started = cpu_seconds(variant.process.pid), time.monotonic()
    result = subprocess.run(
        [str(BIN / "traffic-gen"), "--target", "stage-7", "--base-url", variant.url,
         "--die-service-url", die_service, "--users", str(users), "--duration", str(seconds),
         "--seed", "7", "--json"],
        capture_output=True, text=True, timeout=seconds + 120, check=True,
    )  # fmt: skip
    wall = time.monotonic() - started
    used = cpu_seconds(variant.process.pid) - before
    requests = json.loads(result.stdout)["requests"]
    level = next(name for name, count in LEVELS.items() if count == users)
    variant.rounds.setdefault(level, []).append((used, requests, wall))


def idle(variants: list[Variant], seconds: float) -> None:
    before = {v.name: cpu_seconds(v.process.pid) for v in variants}
    time.sleep(seconds)
    for v in variants:
        v.idle.append((cpu_seconds(v.process.pid) - before[v.name]) / seconds)


def report(variants: list[Variant], profiled_minutes: float) -> None:
    off = variants[0]
    print("  idle CPU per wall second: " + ", ".join(
        f"{v.name} {statistics.median(v.idle) * 1000:.1f} ms/s" for v in variants
    ))  # fmt: skip
    for level in LEVELS:
        print(f"  {level}: median round")
        print("    variant   req/s  CPU ms/req  CPU ms per wall s  vs off (per req)")
        base = None
        for v in variants:
            rows = v.rounds[level]
            per_req = statistics.median(cpu / max(req, 1) for cpu, req, _ in rows) * 1000
            per_wall = statistics.median(cpu / wall for cpu, _, wall in rows) * 1000
            rate = statistics.median(req / wall for _, req, wall in rows)
            base = base or per_req
            print(
                f"    {v.name:8} {rate:6.1f}  {per_req:10.1f}  {per_wall:17.0f}"
                f"  {per_req / base:.3f}"
            )
    rss_off = rss_mib(off.process.pid)
    for v in variants[1:]:
        sent = sum(call.body_bytes for call in v.receiver.calls) if v.receiver else 0
        print(
            f"  {v.name}: +{rss_mib(v.process.pid) - rss_off:.1f} MiB RSS over off, "
            f"{sent / profiled_minutes / 1024:.1f} KiB sent per minute "
            f"({len(v.receiver.calls)} pushes)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()

    bin_dir = postgres_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL not found (apt-get install postgresql)")
    cluster = create_cluster(bin_dir, free_port())
    processes, receivers = [], []
    try:
        dice_port = free_port()
        database = cluster.create_database("dice")
        processes.append(
            start(
                "stage7-die-service",
                {"DIE_SERVICE_PORT": str(dice_port), "DIE_SERVICE_DATABASE_URL": database},
                dice_port,
            )
        )
        die_service = f"http://127.0.0.1:{dice_port}"
        variants = []
        for name, rate in VARIANTS.items():
            port = free_port()
            env = {"DICE_ROLLER_PORT": str(port), "DICE_ROLLER_DIE_SERVICE_URL": die_service}
            receiver = None
            if rate is not None:
                receiver = FakePyroscope().start()
                receivers.append(receiver)
                env |= {
                    "PYROSCOPE_SERVER_ADDRESS": receiver.address,
                    "PYROSCOPE_SAMPLE_RATE": str(rate),
                }
            process = start("stage7-dice-roller", env, port)
            processes.append(process)
            variants.append(Variant(name, process, f"http://127.0.0.1:{port}", receiver))

        started = time.monotonic()
        print(f"{args.rounds} rounds of {args.seconds:.0f} s per variant and level")
        for round_ in range(args.rounds):
            idle(variants, 5)
            order = variants[round_ % 3 :] + variants[: round_ % 3]
            for users in LEVELS.values():
                for variant in order:
                    drive(variant, die_service, users, args.seconds)
        report(variants, (time.monotonic() - started) / 60)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        for receiver in receivers:
            receiver.stop()
        cluster.remove()


if __name__ == "__main__":
    main()
