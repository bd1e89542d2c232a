"""Fixtures shared by every test: free ports, real processes, an OTLP receiver, a real Prometheus.

Under CI=true a missing prerequisite fails the run instead of skipping it.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, poll_until

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


# The stable attribute names for HTTP client and database spans, as compose sets for the services;
# instrumentations read it once per process, so it is set before any test runs.
SEMCONV_STABILITY = "http,database"


def pytest_configure(config: pytest.Config) -> None:
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = SEMCONV_STABILITY


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing; in CI, fail, so nothing is skipped silently."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"prerequisite missing in CI: {reason}")
    pytest.skip(reason)


def require_tool(name: str, install_hint: str, *other_names: str) -> str:
    """The path of a command (under any of its names: Debian's and nixpkgs' may differ)."""
    path = next(filter(None, map(shutil.which, (name, *other_names))), None)
    require(path is not None, f"{name} not found ({install_hint})")
    return path  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def occupied_port() -> Iterator[int]:
    """A loopback port held open (listening) for the block: what a busy port looks like."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


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


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start a console script as a real process on 127.0.0.1 and wait until `ready_path` answers."""
    started: list[Service] = []

    def start(
        command: str | list[str],
        env: dict[str, str],
        port: int,
        ready_path: str = "/healthz",
        timeout: float = 30,
    ) -> Service:
        args = [entry_point(command)] if isinstance(command, str) else command
        name = Path(args[0]).name
        stdout_path = tmp_path / f"{name}-{port}.out"
        stderr_path = tmp_path / f"{name}-{port}.err"
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(
                args, env={**os.environ, **env}, stdout=out, stderr=err, cwd=tmp_path
            )
        service = Service(name, process, f"http://127.0.0.1:{port}", stdout_path, stderr_path)
        started.append(service)

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited {process.returncode}: {service.stderr()}")
            return answers(service.base_url + ready_path)

        poll_until(ready, timeout=timeout, what=f"{name} on port {port}")
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture(autouse=True)
def _close_json_log_handler() -> Iterator[None]:
    """Flush and remove lab-telemetry's handler after each test, while output is still captured."""
    yield
    import logging

    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "lab-telemetry-json":
            root.removeHandler(handler)
            handler.close()


@pytest.fixture(autouse=True)
def _uninstrument_httpx() -> Iterator[None]:
    """Undo the httpx instrumentation an in-process app installs, so that a later test's own
    httpx requests carry the headers it sets (not a client span's traceparent)."""
    yield
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


@pytest.fixture
def fake_loki():
    """A stand-in for Loki's query_range API (no Debian package): tests/support/fake_loki.py"""
    from tests.support.fake_loki import FakeLoki

    loki = FakeLoki().start()
    yield loki
    loki.stop()


# What compose/dice-roller/compose.yaml gives the launcher: its whole tracing configuration.
ZERO_CODE = {
    "OTEL_SERVICE_NAME": "dice-roller",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "OTEL_PYTHON_FASTAPI_EXCLUDED_URLS": "healthz,metrics",
}


@pytest.fixture
def start_dice_roller(start_service, otlp_receiver: OtlpReceiver):
    """`opentelemetry-instrument dice-roller`, as its image runs it."""

    def start(**env: str):
        port = free_port()
        command = [entry_point("opentelemetry-instrument"), entry_point("dice-roller")]
        environment = {
            **ZERO_CODE,
            "DICE_ROLLER_PORT": str(port),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            **env,
        }
        return start_service(command, environment, port)

    return start


@pytest.fixture
def start_stage6(start_service, database):
    """Stage 6's die-service on a real PostgreSQL and a dice-roller asking it; `env` is added to
    both (OTEL_* settings)."""

    def start(**env: str) -> tuple[Service, Service]:
        die_port, roller_port = free_port(), free_port()
        die_service = start_service(
            "stage6-die-service",
            {"DIE_SERVICE_PORT": str(die_port), "DIE_SERVICE_DATABASE_URL": database, **env},
            die_port,
        )
        roller = start_service(
            "stage6-dice-roller",
            {
                "DICE_ROLLER_PORT": str(roller_port),
                "DICE_ROLLER_DIE_SERVICE_URL": die_service.base_url,
                **env,
            },
            roller_port,
        )
        return die_service, roller

    return start


def discovery_labels(project: str, service: str) -> dict[str, str]:
    """The labels the stack's Docker discovery gives a service's series (prometheus.yml)."""
    return {
        "compose_project": project,
        "compose_service": service,
        "service_name": service,
        "container_name": f"{project}-{service}",
    }


def background_traffic(urls: list[str], stop: threading.Event, deadline: float = 240) -> None:
    """GET each URL in turn, about 20 rounds a second, until `stop` is set (or the deadline):
    start it in a thread for traffic that keeps flowing while a test checks."""
    rounds = int(deadline / 0.05)
    with httpx.Client(timeout=5) as client:
        for _ in range(rounds):
            for url in urls:
                client.get(url)
            if stop.wait(0.05):
                return


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


def _throwaway_postgres():
    from tests.support.postgres import create_cluster, postgres_bin

    bin_dir = postgres_bin()
    require(bin_dir is not None, "PostgreSQL not found (apt-get install postgresql)")
    cluster = create_cluster(bin_dir, free_port())
    yield cluster
    cluster.remove()


@pytest.fixture(scope="session")
def postgres_cluster():
    """One real PostgreSQL for the session; tests take a fresh database each (`database`)."""
    yield from _throwaway_postgres()


@pytest.fixture
def database(postgres_cluster, request) -> str:
    """A fresh, empty database on the session's cluster; its DSN."""
    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:50] + f"_{free_port()}"
    return postgres_cluster.create_database(name)


@pytest.fixture
def own_postgres():
    """A cluster of the test's own, for tests that stop and restart the database, or that need
    a database name another test may have taken."""
    yield from _throwaway_postgres()


# Debian's /usr/bin/chromium, or the one `nix develop` names in $CHROMIUM; LAB_CHROMIUM, when set,
# replaces both (the GitHub workflow points it at Playwright's own Chromium: Ubuntu's is a snap).
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Debian's Chromium, headless, with nothing that reaches for the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_executable(playwright) -> str:
    """LAB_CHROMIUM if set; else CHROMIUM; else, where there is no system Chromium at all, the one
    `playwright install chromium` put in place, if it did. The tests never download a browser."""
    chosen = os.environ.get("LAB_CHROMIUM")
    if chosen:
        require(Path(chosen).exists(), f"LAB_CHROMIUM={chosen}: no such file")
        return chosen
    if Path(CHROMIUM).exists():
        return CHROMIUM
    bundled = playwright.chromium.executable_path
    require(Path(bundled).exists(), "chromium not found (apt-get install chromium)")
    return bundled


@pytest.fixture
def browser_page():
    """A Playwright page in headless Chromium (which one: chromium_executable)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = chromium_executable(playwright)
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


@dataclass
class Prometheus:
    base_url: str

    def query(self, promql: str) -> list[dict]:
        response = httpx.get(f"{self.base_url}/api/v1/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def wait_for(self, promql: str, timeout: float = 60) -> list[dict]:
        return poll_until(lambda: self.query(promql), timeout=timeout, what=f"data for {promql}")


@pytest.fixture
def start_prometheus(tmp_path: Path) -> Iterator[Callable[..., Prometheus]]:
    """A real Prometheus scraping the given jobs every second.

    jobs: {job: ["127.0.0.1:port", ...]}; labels: {job: {label: value}} added to that job's
    targets, e.g. the labels the stack's Docker discovery would give them. Or scrape_configs:
    the YAML list itself, indented as under `scrape_configs:`. top_level: more of the config
    (rule_files, alerting), as YAML at the top level.
    """
    processes: list[subprocess.Popen] = []

    def start(
        jobs: dict[str, list[str]] | None = None,
        labels: dict[str, dict[str, str]] | None = None,
        scrape_configs: str = "",
        top_level: str = "",
    ) -> Prometheus:
        binary = require_tool("prometheus", "apt-get install prometheus")
        port = free_port()
        labels = labels or {}
        scrape_configs += "".join(
            f"  - job_name: {job}\n    static_configs:\n      - targets: {targets!r}\n"
            f"        labels: {labels.get(job, {})!r}\n"
            for job, targets in (jobs or {}).items()
        )
        config = tmp_path / f"prometheus-{port}.yml"
        config.write_text(
            textwrap.dedent("""\
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                """)
            + top_level
            + "scrape_configs:\n"
            + scrape_configs
        )
        log = (tmp_path / f"prometheus-{port}.log").open("wb")
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / f'tsdb-{port}'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--enable-feature=exemplar-storage",
            ],
            stdout=log,
            stderr=log,
        )
        processes.append(process)
        prometheus = Prometheus(f"http://127.0.0.1:{port}")
        poll_until(lambda: answers(prometheus.base_url + "/-/ready"), timeout=30, what="prometheus")
        return prometheus

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
