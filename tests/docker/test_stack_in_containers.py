"""The stack's services whose images can be had, in containers under the stack's compose file:
healthy, Grafana's PostgreSQL role read-only, the usage-scraper telling what it misses, and stage
6's incident from the fault switch through Prometheus and Alertmanager to the alert-receiver.

Where Grafana, Loki, Tempo, Pyroscope and Alloy can be pulled, they come up too
(test_full_stack.py checks their signals); where not, the override keeps them, and what depends on
them, from starting.
"""

import asyncio
import threading

import asyncpg
import httpx
import pytest
from lab_telemetry.testing import poll_until

from tests.config.repo_files import STACK_COMPOSE, load_yaml
from tests.docker.lab import PROMETHEUS, Lab, container_logs, containers, run
from tests.support.traffic import background_traffic

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

ALERTMANAGER = "http://127.0.0.1:9093"
STAGE6_ROLLER = "http://127.0.0.1:8601"
STAGE6_DIE_SERVICE = "http://127.0.0.1:8602"


@pytest.fixture
def stack(lab: Lab) -> Lab:
    lab.nox("-s", "stack")
    return lab


def test_the_stack_services_that_run_here_are_healthy(stack: Lab) -> None:
    expected = set(load_yaml(STACK_COMPOSE)["services"]) - set(stack.held_back("stack"))
    found = {c.service: c.status for c in containers("observability-lab")}
    assert expected <= set(found), f"compose has {sorted(expected)}, running {sorted(found)}"
    unhealthy = {name: found[name] for name in expected if "(healthy)" not in found[name]}
    assert not unhealthy, unhealthy


def test_prometheus_sends_to_alertmanager_and_alertmanager_to_the_receiver(stack: Lab) -> None:
    def active() -> list:
        response = httpx.get(f"{PROMETHEUS}/api/v1/alertmanagers", timeout=10)
        return response.json()["data"]["activeAlertmanagers"]

    poll_until(active, timeout=60, what="Alertmanager among Prometheus's active alertmanagers")
    # The webhook's URL is a secret Alertmanager does not show; the route and receiver it does.
    config = httpx.get(f"{ALERTMANAGER}/api/v2/status", timeout=10).json()["config"]["original"]
    assert "receiver: alert-receiver" in config
    assert "webhook_configs" in config


async def as_usage_reader(password: str, statement: str) -> object:
    connection = await asyncpg.connect(
        host="127.0.0.1", port=5433, user="usage_reader", password=password, database="usage_stats"
    )
    try:
        return await connection.fetchval(statement)
    finally:
        await connection.close()


def test_grafanas_usage_reader_role_exists_in_the_container_and_only_reads(stack: Lab) -> None:
    # reader.sh ran in the image's entrypoint on the fresh volume, after init.sql.
    password = stack.secret("USAGE_READER_PASSWORD")
    assert asyncio.run(as_usage_reader(password, "SELECT count(*) FROM usage_events")) >= 0
    for statement in (
        "INSERT INTO usage_events (event_key, event_time, service, labels, raw_line)"
        " VALUES ('\\x00', now(), 'x', '{}', 'x')",
        "CREATE TABLE sneaky (id int)",
        "DELETE FROM scraper_position",
    ):
        with pytest.raises(asyncpg.PostgresError) as refused:
            asyncio.run(as_usage_reader(password, statement))
        assert isinstance(
            refused.value,
            asyncpg.ReadOnlySQLTransactionError | asyncpg.InsufficientPrivilegeError,
        ), f"{statement}: {refused.value!r}"


def test_the_usage_scraper_without_loki_runs_and_says_what_it_misses(stack: Lab) -> None:
    if "loki" not in stack.held_back("stack"):
        pytest.skip("Loki's image is at hand: the scraper runs with it (test_full_stack.py)")
    stack.compose("stack", "up", "--detach", "--no-deps", "usage-scraper")
    (scraper,) = [c for c in containers("observability-lab") if c.service == "usage-scraper"]
    probe = (
        "import urllib.request, urllib.error\n"
        "try:\n urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)\n"
        "except urllib.error.HTTPError as e:\n print(e.code, e.read().decode())\n"
        "except OSError:\n pass\n"
    )

    def unhealthy_answer() -> str:
        result = run(["docker", "exec", scraper.name, "python", "-c", probe], timeout=30)
        return result.stdout if result.stdout.startswith("503") else ""

    answer = poll_until(unhealthy_answer, timeout=120, interval=2, what="the scraper's 503")
    assert "Loki at http://loki:3100" in answer, answer
    assert stack.secret("POSTGRES_PASSWORD") not in answer
    # Still running: a missing dependency is reported, never a crash loop.
    assert "Up" in next(c for c in containers("observability-lab") if c.name == scraper.name).status
    stack.compose("stack", "rm", "--stop", "--force", "usage-scraper")


def receiver_lines(**match: str) -> list[dict]:
    (receiver,) = [c for c in containers("observability-lab") if c.service == "alert-receiver"]
    return [
        line
        for line in container_logs(receiver.name)
        if all(line.get(key) == value for key, value in match.items())
        and line.get("labels", {}).get("compose_project") == "stage-6"
    ]


def test_stage6_fault_pages_through_prometheus_and_alertmanager_and_ending_it_resolves(
    lab: Lab,
) -> None:
    # The overrides run the stack's SLO rules with windows 60 times shorter (overrides.py).
    lab.nox("-s", "stage-6")
    page = {"alertname": "SLOAvailabilityErrorBudgetBurn", "severity": "page"}
    # Earlier incidents of a lab left up stay in the receiver's log: count only new lines.
    fired_before = len(receiver_lines(alert_status="firing", **page))
    resolved_before = len(receiver_lines(alert_status="resolved", **page))
    stop = threading.Event()
    traffic = threading.Thread(
        target=background_traffic, args=([f"{STAGE6_ROLLER}/roll?die=fair"], stop), daemon=True
    )
    traffic.start()
    faults = f"{STAGE6_DIE_SERVICE}/dice/fair/faults"
    try:
        assert httpx.patch(faults, json={"failure_rate": 1.0}, timeout=10).status_code == 200
        firing = poll_until(
            lambda: receiver_lines(alert_status="firing", **page)[fired_before:], timeout=240,
            interval=2, what="the page at the alert-receiver container",
        )[0]  # fmt: skip
        assert firing["labels"]["service_name"] == "dice-roller"
        assert firing["level"] == "WARNING"

        assert httpx.patch(faults, json={"failure_rate": 0}, timeout=10).status_code == 200
        poll_until(
            lambda: len(receiver_lines(alert_status="resolved", **page)) > resolved_before,
            timeout=240, interval=2, what="the resolved notification",
        )  # fmt: skip
    finally:
        httpx.patch(faults, json={"failure_rate": 0}, timeout=10)
        stop.set()
        traffic.join(timeout=10)
