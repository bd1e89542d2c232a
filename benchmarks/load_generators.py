"""Load generators side by side: traffic-gen (tracing off and on) vs Locust's HttpUser and
FastHttpUser, each from one core against the same no-work target on the other core.
Then: 1,000 traffic-gen users with 1-5 s think time, achieved vs intended rate.

    uv run --group bench python benchmarks/load_generators.py [--seconds 10] [--rounds 3]
"""

import argparse
import csv
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from lab_telemetry.testing import OtlpReceiver, poll_until

HERE = Path(__file__).resolve().parent
USERS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_target() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            "taskset",
            "-c",
            "1",
            sys.executable,
            "-m",
            "uvicorn",
            "no_work_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--http",
            "httptools",
            "--loop",
            "uvloop",
        ],
        cwd=HERE,
    )
    url = f"http://127.0.0.1:{port}"
    poll_until(lambda: _answers(url), timeout=30, what="the no-work target")
    return process, url


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def traffic_gen(url: str, seconds: int, tracing_endpoint: str | None, *extra: str) -> dict:
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": tracing_endpoint or ""}
    args = ["--users", str(USERS), "--think-time", "0-0", "--duration", str(seconds)]
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "0",
            shutil.which("traffic-gen"),
            "--target",
            "dice-roller",
            "--base-url",
            url,
            "--json",
            *(extra or args),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=seconds * 3 + 60,
    ).stdout
    return json.loads(out)


def locust(url: str, seconds: int, user_class: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                "taskset",
                "-c",
                "0",
                shutil.which("locust"),
                "-f",
                str(HERE / "locustfile.py"),
                user_class,
                "--headless",
                "-u",
                str(USERS),
                "-r",
                str(USERS),
                "-t",
                f"{seconds}s",
                "--host",
                url,
                "--csv",
                f"{tmp}/run",
                "--only-summary",
                "--loglevel",
                "ERROR",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds * 3 + 60,
        )
        with open(f"{tmp}/run_stats.csv") as f:
            (total,) = [row for row in csv.DictReader(f) if row["Name"] == "Aggregated"]
        if int(total["Failure Count"]):
            raise RuntimeError(f"locust {user_class}: {total['Failure Count']} failures")
        return float(total["Requests/s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--many-seconds", type=int, default=30)
    args = parser.parse_args()
    for tool in ("taskset", "traffic-gen", "locust"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} not found (uv sync --group bench; apt-get install util-linux)")

    target, url = start_target()
    # The OTLP receiver shares the target's core: spans cost the generator, not the target.
    receiver = OtlpReceiver().start()
    os.sched_setaffinity(0, {1})
    results: dict[str, list[float]] = {
        "traffic-gen, tracing off": [],
        "traffic-gen, tracing on": [],
        "locust FastHttpUser": [],
        "locust HttpUser": [],
    }
    try:
        for _ in range(args.rounds):
            results["traffic-gen, tracing off"].append(traffic_gen(url, args.seconds, None)["rate"])
            results["traffic-gen, tracing on"].append(
                traffic_gen(url, args.seconds, receiver.endpoint)["rate"]
            )
            results["locust FastHttpUser"].append(locust(url, args.seconds, "FastHttp"))
            results["locust HttpUser"].append(locust(url, args.seconds, "Http"))
        many = traffic_gen(
            url,
            args.many_seconds,
            None,
            "--users",
            "1000",
            "--think-time",
            "1-5",
            "--duration",
            str(args.many_seconds),
        )
    finally:
        receiver.stop()
        target.terminate()
        target.wait(timeout=30)

    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"{USERS} users, think time 0, {args.seconds} s each, {args.rounds} rounds, median req/s")
    for name, values in results.items():
        print(f"  {name:26} {medians[name]:8.0f}  rounds: " + ", ".join(f"{v:.0f}" for v in values))
    fast = medians["locust FastHttpUser"]
    for name in ("traffic-gen, tracing off", "traffic-gen, tracing on", "locust HttpUser"):
        print(f"  {name} / locust FastHttpUser: {medians[name] / fast:.2f}")
    intended = 1000 / 3  # users over the mean think time
    print(
        f"1000 users, think time 1-5 s, {args.many_seconds} s: {many['rate']:.0f} req/s "
        f"of {intended:.0f} intended ({many['rate'] / intended:.0%}), {many['errors']} errors"
    )


if __name__ == "__main__":
    main()
