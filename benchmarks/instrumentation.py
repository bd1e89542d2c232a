"""Instrumentation cost: the dice-roller bare vs fully instrumented, side by side in one run.

The server runs on one core (taskset), wrk and the OTLP receiver on the other. Variants are
interleaved round by round so a change in machine load hits both alike; the median round counts.

    uv run python benchmarks/instrumentation.py [--seconds 5] [--rounds 3]
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from lab_telemetry.testing import OtlpReceiver, poll_until

URL_PATH = "/roll/3d6"
CONNECTIONS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wrk(url: str, seconds: int) -> float:
    out = subprocess.run(
        ["taskset", "-c", "0", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses from {url}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def measure(variant: str, env: dict[str, str], seconds: int, log: Path) -> float:
    port = free_port()
    env = {**os.environ, "DICE_ROLLER_PORT": str(port), **env}
    with log.open("ab") as out:
        server = subprocess.Popen(
            ["taskset", "-c", "1", shutil.which("dice-roller")], env=env, stdout=out, stderr=out
        )
    try:
        base = f"http://127.0.0.1:{port}"
        poll_until(lambda: answers(base + URL_PATH), timeout=30, what=f"{variant} to start")
        wrk(base + URL_PATH, 1)  # warm-up
        return wrk(base + URL_PATH, seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for tool in ("wrk", "taskset", "dice-roller"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} not found (apt-get install wrk util-linux; uv sync)")

    os.sched_setaffinity(0, {0})  # the receiver thread shares wrk's core, not the server's
    with OtlpReceiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        instrumented = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_TRACES_SAMPLER": "always_on",
        }
        # The last two take one part away each, to show where the cost is.
        variants = {
            "bare": {"DICE_ROLLER_TELEMETRY": "false"},
            "instrumented": instrumented,
            "no-logs": {**instrumented, "LOG_LEVEL": "WARNING"},
            "no-export": {**instrumented, "OTEL_EXPORTER_OTLP_ENDPOINT": ""},
        }
        results: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, env in variants.items():
                results[name].append(measure(name, env, args.seconds, Path(tmp) / f"{name}.log"))
        spans = len(receiver.find(service="dice-roller"))

    bare = statistics.median(results["bare"])
    print(f"wrk -t1 -c{CONNECTIONS} -d{args.seconds}s {URL_PATH}, {args.rounds} rounds, median")
    for name, values in results.items():
        print(
            f"  {name:13} {statistics.median(values):8.0f} req/s  rounds: "
            + ", ".join(f"{v:.0f}" for v in values)
        )
    for name, values in results.items():
        if name != "bare":
            rate = statistics.median(values)
            print(
                f"  {name}/bare: {rate / bare:.2f}, "
                f"added per request: {1e6 / rate - 1e6 / bare:.0f} us"
            )
    print(f"  spans received: {spans}")


if __name__ == "__main__":
    main()
