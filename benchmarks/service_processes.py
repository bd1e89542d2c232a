"""The lab's services as the benchmarks run them: a console script on 127.0.0.1, quiet, no trace
export, waited for on /healthz; and a process's resident memory."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start(command: str, env: dict[str, str], port: int, wait: float = 60) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(BIN / command)],
        env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "", "LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{command} did not start on port {port}")
