"""Every PromQL query of every dashboard parses, and returns data against a real Prometheus
scraping the real services under some traffic."""

import re

import httpx
import pytest
from lab_telemetry.testing import poll_until

from tests.config.repo_files import promql_queries
from tests.conftest import free_port

# What Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}
# The labels the stack's Docker discovery gives the dice-roller's series (see prometheus.yml).
DICE_ROLLER_LABELS = {
    "compose_project": "dice-roller",
    "compose_service": "dice-roller",
    "service_name": "dice-roller",
    "container_name": "dice-roller-dice-roller-1",
}


def as_sent_by_grafana(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def metric_names(expr: str) -> set[str]:
    """Metric names a query selects (identifiers followed by a selector or range)."""
    return set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{|\[)", expr)) - {"by", "without"}


@pytest.fixture
def prometheus_with_dice_roller(start_service, start_prometheus):
    port = free_port()
    service = start_service(
        "dice-roller", {"DICE_ROLLER_PORT": str(port), "OTEL_EXPORTER_OTLP_ENDPOINT": ""}, port
    )
    prometheus = start_prometheus(
        {"dice-roller": [f"127.0.0.1:{port}"]}, labels={"dice-roller": DICE_ROLLER_LABELS}
    )

    def traffic() -> bool:
        for dice in ("3d6", "1d20", "2d6+1", "4d8-1", "abc"):
            httpx.get(f"{service.base_url}/roll/{dice}", timeout=5)
        return len(prometheus.query('count_over_time(up{job="dice-roller"}[1m]) >= 3')) > 0

    # Keep traffic flowing until Prometheus has the few samples rate() needs.
    poll_until(traffic, timeout=60, interval=0.5, what="three scrapes of the dice-roller")
    return prometheus


def test_every_dashboard_query_parses_and_returns_data(prometheus_with_dice_roller) -> None:
    prometheus = prometheus_with_dice_roller
    queries = promql_queries()
    assert queries
    served = set(
        httpx.get(f"{prometheus.base_url}/api/v1/label/__name__/values", timeout=10).json()["data"]
    )
    served |= {name.removesuffix("_bucket") for name in served}
    checked_with_data = 0
    for dashboard, title, expr in queries:
        query = as_sent_by_grafana(expr)
        assert "$" not in query, f"{dashboard} / {title}: unknown Grafana variable in {expr}"
        response = httpx.get(
            f"{prometheus.base_url}/api/v1/query", params={"query": query}, timeout=10
        )
        assert response.status_code == 200, f"{dashboard} / {title}: {response.text}"
        if metric_names(query) <= served | {"up"}:
            poll_until(
                lambda q=query: prometheus.query(q),
                timeout=30,
                what=f"{dashboard} / {title}: {query}",
            )
            checked_with_data += 1
    assert checked_with_data >= len(queries) // 2
