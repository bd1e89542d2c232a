"""The stack for real: bring up the stack and the dice-roller with Docker, send traffic, and find
the signals through the backends' HTTP APIs. Skips, with its reason, where no engine answers.

    uv run nox -s smoke
"""

import os
import shutil
import subprocess
import time

import httpx
import pytest
from lab_telemetry.testing import poll_until

from tests.config.repo_files import REPO

pytestmark = pytest.mark.docker

PROMETHEUS = "http://127.0.0.1:9090"
LOKI = "http://127.0.0.1:3100"
TEMPO = "http://127.0.0.1:3200"
DICE_ROLLER = "http://127.0.0.1:8001"
ALERTMANAGER = "http://127.0.0.1:9093"


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def lab():
    if not engine_answers():
        pytest.skip("no Docker engine answers `docker info`; the smoke test needs one")
    nox = ["uv", "run", "--locked", "nox"]
    subprocess.run([*nox, "-s", "dice-roller"], cwd=REPO, check=True, timeout=900)
    yield
    if os.environ.get("SMOKE_KEEP_UP") != "1":
        subprocess.run([*nox, "-s", "down"], cwd=REPO, check=False, timeout=300)


def prometheus(query: str) -> list[dict]:
    response = httpx.get(f"{PROMETHEUS}/api/v1/query", params={"query": query}, timeout=10)
    return response.json()["data"]["result"]


def test_every_container_is_healthy(lab) -> None:
    # `up --wait` already waited; this names any container whose healthcheck cannot pass in its
    # image (Loki's and Tempo's are distroless: see compose/IMAGES.md).
    listing = subprocess.run(
        [
            "docker",
            "ps",
            "--all",
            "--filter",
            "label=com.docker.compose.project",
            "--format",
            "{{.Names}}\t{{.Status}}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    ours = [line for line in listing if line.startswith(("observability-lab-", "demo-"))]
    assert len(ours) >= 10, listing  # the stack's nine and the dice-roller
    unhealthy = [line for line in ours if "(healthy)" not in line]
    assert not unhealthy, unhealthy


def test_signals_reach_every_backend(lab) -> None:
    for _ in range(50):
        assert httpx.get(f"{DICE_ROLLER}/roll/3d6", timeout=5).status_code == 200

    poll_until(lambda: prometheus('up{job="dice-roller"} == 1'), timeout=120, what="target up")
    poll_until(lambda: prometheus("dice_rolls_total"), timeout=120, what="custom metric")

    def loki_lines_with_trace_ids() -> list:
        now = time.time_ns()
        response = httpx.get(
            f"{LOKI}/loki/api/v1/query_range",
            params={
                "query": '{service_name="dice-roller"} | trace_id != ""',
                "start": now - 600 * 10**9,
                "end": now,
                "limit": 10,
            },
            timeout=10,
        )
        return response.json()["data"]["result"]

    poll_until(
        loki_lines_with_trace_ids, timeout=120, what="dice-roller logs with trace_id in Loki"
    )

    def tempo_traces() -> list:
        response = httpx.get(
            f"{TEMPO}/api/search",
            params={"q": '{resource.service.name="dice-roller"}', "limit": 5},
            timeout=10,
        )
        return response.json().get("traces", [])

    poll_until(tempo_traces, timeout=120, what="dice-roller traces in Tempo")
    poll_until(
        lambda: prometheus('traces_spanmetrics_calls_total{service="dice-roller"}'),
        timeout=180,
        what="span metrics from Tempo in Prometheus",
    )

    # The usage-scraper polls every 60 s, 30 s behind now: the roll events reach usage_stats.
    def usage_events_stored() -> int:
        import asyncio

        import asyncpg

        env = dict(
            line.split("=", 1) for line in (REPO / ".env").read_text().splitlines() if "=" in line
        )
        dsn = f"postgresql://lab:{env['POSTGRES_PASSWORD']}@127.0.0.1:5433/usage_stats"

        async def count() -> int:
            connection = await asyncpg.connect(dsn)
            try:
                return await connection.fetchval(
                    "SELECT count(*) FROM usage_events WHERE service = 'dice-roller'"
                )
            finally:
                await connection.close()

        return asyncio.run(count())

    poll_until(usage_events_stored, timeout=240, interval=5, what="usage events in PostgreSQL")


def test_prometheus_sends_alerts_to_alertmanager_and_it_to_the_receiver(lab) -> None:
    def active() -> list:
        response = httpx.get(f"{PROMETHEUS}/api/v1/alertmanagers", timeout=10)
        return response.json()["data"]["activeAlertmanagers"]

    poll_until(active, timeout=60, what="Alertmanager among Prometheus's active alertmanagers")
    status = httpx.get(f"{ALERTMANAGER}/api/v2/status", timeout=10).json()
    assert "alert-receiver:8000/alerts" in status["config"]["original"]
    poll_until(lambda: prometheus('up{service_name="alert-receiver"} == 1'), timeout=120)
