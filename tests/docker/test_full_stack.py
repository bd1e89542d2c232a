"""The whole stack where its images can be pulled (the GitHub workflow, a learner's laptop):
Grafana, Loki, Tempo, Pyroscope and Alloy included. The stack and the dice-roller come up through
`nox -s dice-roller`, traffic flows, and every signal is found in its backend through the
backends' HTTP APIs; Grafana lists the provisioned dashboards and its datasources answer.

Where those images cannot be had (no registry, and no stand-in can be built for them), these
tests say so and skip: the rest of tests/docker covers what runs there.

    uv run nox -s smoke
"""

import json
import time

import httpx
import pytest
from lab_telemetry.testing import poll_until

from tests.config.repo_files import DASHBOARDS
from tests.docker.lab import Lab, containers, prometheus

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1200)]

LOKI = "http://127.0.0.1:3100"
TEMPO = "http://127.0.0.1:3200"
GRAFANA = "http://127.0.0.1:3000"
DICE_ROLLER = "http://127.0.0.1:8001"


@pytest.fixture(scope="module")
def full_stack(lab: Lab) -> Lab:
    missing = lab.held_back("stack")
    if missing:
        pytest.skip(
            f"no image on this engine for {', '.join(sorted(missing))} (or for what they need)"
        )
    lab.nox("-s", "dice-roller")
    return lab


def test_every_container_is_healthy(full_stack) -> None:
    # `up --wait` already waited; this names any container whose healthcheck cannot pass in its
    # image (Loki's, Tempo's and Pyroscope's are distroless: see compose/IMAGES.md).
    ours = containers("observability-lab") + containers("demo")
    expected = {"loki", "tempo", "pyroscope", "alloy", "grafana", "dice-roller"}
    assert {c.service for c in ours} >= expected
    unhealthy = [f"{c.name}: {c.status}" for c in ours if "(healthy)" not in c.status]
    assert not unhealthy, unhealthy


def test_signals_reach_every_backend(full_stack) -> None:
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

        password = full_stack.secret("POSTGRES_PASSWORD")
        dsn = f"postgresql://lab:{password}@127.0.0.1:5433/usage_stats"

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


def test_grafana_lists_every_provisioned_dashboard_and_its_datasources_answer(full_stack) -> None:
    auth = ("admin", full_stack.secret("GRAFANA_ADMIN_PASSWORD"))
    found = httpx.get(f"{GRAFANA}/api/search", params={"type": "dash-db"}, auth=auth, timeout=10)
    uids = {dashboard["uid"] for dashboard in found.json()}
    for path in DASHBOARDS:
        assert json.loads(path.read_text())["uid"] in uids, f"{path.name} is not provisioned"
    datasources = httpx.get(f"{GRAFANA}/api/datasources", auth=auth, timeout=10).json()
    for datasource in datasources:
        health = httpx.get(
            f"{GRAFANA}/api/datasources/uid/{datasource['uid']}/health", auth=auth, timeout=30
        )
        assert health.status_code == 200, f"{datasource['name']}: {health.text}"
