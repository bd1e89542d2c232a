"""Instrumentation cost: the dice-roller's GET /roll/3d6 under the standard configurations.

bare (no telemetry); zero-code (`opentelemetry-instrument`, as the dice-roller runs); FastAPI's
own tracing as the stages use it, with operation spans (native) and without (native-no-ops),
the same with one log line per request (no access line: native-no-ops-1-line), with parent-based
10% sampling, and traces only (no metrics, no log lines). Every other variant has the HTTP
metrics and two JSON log lines per request (uvicorn's access line and the usage event).

The server runs on one core (taskset), wrk and the OTLP receiver on the other; variants are
interleaved round by round so a change in machine load hits all alike; the median round
counts. Reported as added server CPU per request against bare, and as ratios.

    uv run python benchmarks/instrumentation.py [--seconds 5] [--rounds 5]
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
from dataclasses import dataclass
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


@dataclass
class Round:
    rate: float  # requests per second
    cpu_us: float  # server CPU time per request, all its threads
    busy: float  # server CPU time / wall time: below 1.0 the server was not the bottleneck


def wrk(url: str, seconds: int) -> tuple[int, float]:
    """The number of requests served and the rate."""
    out = subprocess.run(
        ["taskset", "-c", "0", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses from {url}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return requests, float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def cpu_seconds(pid: int) -> float:
    """User + system time of a process, all threads (proc(5): fields 14 and 15 of stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    variant: str, command: list[str], env: dict[str, str], seconds: int, log: Path
) -> Round:
    port = free_port()
    env = {**os.environ, "DICE_ROLLER_PORT": str(port), **env}
    with log.open("ab") as out:
        server = subprocess.Popen(["taskset", "-c", "1", *command], env=env, stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{port}"
        poll_until(lambda: answers(base + URL_PATH), timeout=30, what=f"{variant} to start")
        wrk(base + URL_PATH, 1)  # warm-up
        cpu_before = cpu_seconds(server.pid)
        requests, rate = wrk(base + URL_PATH, seconds)
        cpu = cpu_seconds(server.pid) - cpu_before
        return Round(rate, cpu / requests * 1e6, cpu / (requests / rate))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for tool in ("wrk", "taskset", "dice-roller", "opentelemetry-instrument"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} not found (apt-get install wrk util-linux; uv sync)")

    os.sched_setaffinity(0, {0})  # the receiver thread shares wrk's core, not the server's
    with OtlpReceiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        export = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
        dice_roller = [shutil.which("dice-roller")]
        zero_code = [shutil.which("opentelemetry-instrument"), *dice_roller]
        native = [sys.executable, str(Path(__file__).with_name("native_app.py"))]
        launcher = {
            "OTEL_SERVICE_NAME": "zero-code",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
        }
        sampled = {
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
        }
        no_ops = {"BENCH_OPERATION_SPANS": "false"}
        variants = {
            "bare": (dice_roller, {"DICE_ROLLER_TELEMETRY": "false"}),
            "zero-code": (zero_code, {**export, **launcher}),
            "native": (native, {**export, "OTEL_SERVICE_NAME": "native"}),
            "native-no-ops": (native, {**export, **no_ops}),
            "native-no-ops-1-line": (native, {**export, **no_ops, "UVICORN_ACCESS_LOG": "false"}),
            "native-10%": (native, {**export, **no_ops, **sampled}),
            "traces-only": (native, {**export, "DICE_ROLLER_TELEMETRY": "false"}),
        }
        results: dict[str, list[Round]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, (command, env) in variants.items():
                log = Path(tmp) / f"{name}.log"
                results[name].append(measure(name, command, env, args.seconds, log))
        # Every request a variant served has an access line; each should have reached the
        # receiver as a server span (a full export queue drops spans).
        received = {
            name: sum(1 for s in receiver.find(service=name) if s.kind == 2)
            for name in ("zero-code", "native")
        }
        served = {}
        for name in received:
            with (Path(tmp) / f"{name}.log").open() as log:
                served[name] = sum(1 for line in log if '"logger":"uvicorn.access"' in line)

    def median(name: str, field: str) -> float:
        return statistics.median(getattr(r, field) for r in results[name])

    print(f"wrk -t1 -c{CONNECTIONS} -d{args.seconds}s {URL_PATH}, {args.rounds} rounds, median")
    print("  variant          req/s  CPU us/req  server busy  req/s by round")
    for name, rounds in results.items():
        print(
            f"  {name:13} {median(name, 'rate'):8.0f} {median(name, 'cpu_us'):11.0f}"
            f" {median(name, 'busy'):11.0%}  " + ", ".join(f"{r.rate:.0f}" for r in rounds)
        )
    added = {name: median(name, "cpu_us") - median("bare", "cpu_us") for name in results}
    for name in results:
        if name == "bare":
            continue
        rate = median(name, "rate") / median("bare", "rate")
        share = added[name] / added["native"]
        print(
            f"  {name}: +{added[name]:.0f} us/req, {rate:.2f} x bare by req/s, "
            f"{share:.2f} of what native adds"
        )
    for name in received:
        print(f"  {name}: {received[name]} server spans received of {served[name]} requests")


if __name__ == "__main__":
    main()
