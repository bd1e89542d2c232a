"""Fixtures shared by every test: real processes, an OTLP receiver, a real PostgreSQL and
Prometheus, a browser. The helpers they use are in tests/support/ (processes, ports,
prerequisites, prometheus, browser ...).

Under CI=true a missing prerequisite fails the run instead of skipping it.
"""

import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lab_telemetry.testing import OtlpReceiver

from tests.support import browser, prometheus
from tests.support.ports import free_port
from tests.support.postgres import create_cluster, postgres_bin
from tests.support.prerequisites import require
from tests.support.processes import Service, Services, entry_point


def pytest_configure(config: pytest.Config) -> None:
    # The stable attribute names for HTTP client and database spans, as compose sets for the
    # services; instrumentations read it once per process, so it is set before any test runs.
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "http,database"


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start a console script as a real process on 127.0.0.1 and wait until `ready_path` answers
    (tests/support/processes.py: Services.start); every one is stopped after the test."""
    services = Services(tmp_path)
    try:
        yield services.start
    finally:
        services.stop_all()


@pytest.fixture(autouse=True)
def _close_json_log_handler() -> Iterator[None]:
    """Flush and remove lab-telemetry's handler after each test, while output is still captured."""
    yield
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


@pytest.fixture
def fake_pyroscope():
    """A stand-in for Pyroscope's ingest API (no Debian package): tests/support/fake_pyroscope.py"""
    from tests.support.fake_pyroscope import FakePyroscope

    with FakePyroscope() as pyroscope:
        yield pyroscope


@pytest.fixture
def start_dice_roller(start_service, otlp_receiver: OtlpReceiver):
    """`opentelemetry-instrument dice-roller`, as its image runs it."""

    def start(**env: str):
        port = free_port()
        command = [entry_point("opentelemetry-instrument"), entry_point("dice-roller")]
        environment = {
            # What compose/dice-roller/compose.yaml gives the launcher: its whole configuration.
            "OTEL_SERVICE_NAME": "dice-roller",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_PYTHON_FASTAPI_EXCLUDED_URLS": "healthz,metrics",
            "DICE_ROLLER_PORT": str(port),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            **env,
        }
        return start_service(command, environment, port)

    return start


def _stage_starter(number: int, start_service, database) -> Callable[..., tuple[Service, Service]]:
    """Stage `number`'s die-service on a real PostgreSQL and a dice-roller asking it; `env` is
    added to both (OTEL_* settings), `roller_env` to the dice-roller's."""

    def start(roller_env: dict[str, str] | None = None, **env: str) -> tuple[Service, Service]:
        die_port, roller_port = free_port(), free_port()
        die_service = start_service(
            f"stage{number}-die-service",
            {"DIE_SERVICE_PORT": str(die_port), "DIE_SERVICE_DATABASE_URL": database, **env},
            die_port,
        )
        roller = start_service(
            f"stage{number}-dice-roller",
            {
                "DICE_ROLLER_PORT": str(roller_port),
                "DICE_ROLLER_DIE_SERVICE_URL": die_service.base_url,
                **env,
                **(roller_env or {}),
            },
            roller_port,
        )
        return die_service, roller

    return start


@pytest.fixture
def start_stage6(start_service, database):
    """Stage 6's die-service on a real PostgreSQL and a dice-roller asking it."""
    return _stage_starter(6, start_service, database)


@pytest.fixture
def start_stage7(start_service, database):
    """Stage 7's, as stage 6's: its dice-roller checks each die's fairness before the roll."""
    return _stage_starter(7, start_service, database)


@pytest.fixture
def start_frontend(start_service) -> Callable[..., str]:
    """Stage `number`'s page as a real process calling the given dice-roller (and die-service,
    from stage 3 on); its URL."""

    def start(number: int, roller: Service, die_service: Service | None = None) -> str:
        port = free_port()
        env = {
            "FRONTEND_PORT": str(port),
            "FRONTEND_METRICS_PORT": str(free_port()),
            "FRONTEND_DICE_ROLLER_URL": roller.base_url,
        }
        if die_service is not None:
            env["FRONTEND_DIE_SERVICE_URL"] = die_service.base_url
        start_service(f"stage{number}-frontend", env, port, ready_path="/_stcore/health")
        return f"http://127.0.0.1:{port}"

    return start


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


def _throwaway_postgres():
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


@pytest.fixture
def browser_page():
    """A Playwright page in headless Chromium (tests/support/browser.py)."""
    with browser.browser_page() as page:
        yield page


@pytest.fixture
def start_prometheus(tmp_path: Path) -> Iterator[Callable[..., prometheus.Prometheus]]:
    """A real Prometheus scraping the given jobs every second; the arguments are those of
    tests/support/prometheus.py's config (jobs, labels, scrape_configs, top_level)."""
    processes = []

    def start(jobs: dict[str, list[str]] | None = None, **config) -> prometheus.Prometheus:
        server, process = prometheus.start(tmp_path, prometheus.config(jobs, **config))
        processes.append(process)
        return server

    yield start
    for process in processes:
        prometheus.stop(process)
