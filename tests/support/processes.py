"""The workspace's console scripts run as real processes: run one to completion, or start a
service and wait until it answers (`Services`), then read its JSON log lines."""

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from lab_telemetry.testing import poll_until

from tests.support.prerequisites import require


def entry_point(name: str) -> str:
    """A workspace member's console script in the running virtualenv."""
    path = Path(sys.executable).parent / name
    require(path.exists(), f"{name} is not installed: run `uv sync --all-packages`")
    return str(path)


def run_entry_point(name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a console script to completion with only `env` (and a PATH), as a user would."""
    return subprocess.run(
        [entry_point(name)],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    base_url: str
    stdout_path: Path
    stderr_path: Path

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def log_lines(self) -> list[dict]:
        """The JSON lines written so far (lab-telemetry flushes them within 0.1 s)."""
        return [json.loads(line) for line in self.stdout().splitlines() if line.startswith("{")]

    def wait_for_log(self, timeout: float = 10, **match: object) -> dict:
        """The first log line whose fields equal every keyword given."""

        def find() -> dict | None:
            for line in self.log_lines():
                if all(line.get(key) == value for key, value in match.items()):
                    return line
            return None

        return poll_until(find, timeout=timeout, what=f"a log line of {self.name} with {match}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class Services:
    """Starts services on 127.0.0.1, their output in `directory`; `stop_all` stops every one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Service] = []

    def start(
        self,
        command: str | list[str],
        env: dict[str, str],
        port: int,
        ready_path: str = "/healthz",
        timeout: float = 30,
    ) -> Service:
        """Start a console script (or a command line) and wait until `ready_path` answers."""
        args = [entry_point(command)] if isinstance(command, str) else command
        name = Path(args[0]).name
        stdout_path = self.directory / f"{name}-{port}.out"
        stderr_path = self.directory / f"{name}-{port}.err"
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(
                args, env={**os.environ, **env}, stdout=out, stderr=err, cwd=self.directory
            )
        service = Service(name, process, f"http://127.0.0.1:{port}", stdout_path, stderr_path)
        self.started.append(service)

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited {process.returncode}: {service.stderr()}")
            return answers(service.base_url + ready_path)

        poll_until(ready, timeout=timeout, what=f"{name} on port {port}")
        return service

    def stop_all(self) -> None:
        for service in self.started:
            service.stop()
