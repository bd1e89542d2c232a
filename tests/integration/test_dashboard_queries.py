"""Every PromQL query of every dashboard parses, and those on the metrics of the dashboard's
services return data against a real Prometheus scraping those services under some traffic."""

import json
import threading
from collections.abc import Callable

import httpx
import pytest
from lab_telemetry.testing import poll_until

from tests.config.repo_files import DASHBOARDS, promql_queries
from tests.config.test_query_grammars import parse
from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.prerequisites import require_tool
from tests.support.prometheus import discovery_labels
from tests.support.traffic import background_traffic
from tools.slo_rules import render

# What Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}


def as_sent_by_grafana(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def metric_names(exprs: list[str]) -> list[set[str]]:
    """The metric names each query selects, as Prometheus's own grammar reads them (parse.mjs)."""
    results = parse([("", "promql", expr) for expr in exprs])
    return [{name for kind, name in result["names"] if kind == "metric"} for result in results]


class Scenario:
    """Starts a dashboard's services, and says what Prometheus scrapes and what traffic to send."""

    def __init__(self, start_service, tmp_path, request) -> None:
        self.start_service = start_service
        self.tmp_path = tmp_path
        # Fixtures only some scenarios need (PostgreSQL), taken when asked for.
        self.fixture = request.getfixturevalue
        self.jobs: dict[str, list[str]] = {}
        self.labels: dict[str, dict[str, str]] = {}
        self.urls: list[str] = []
        # More of Prometheus's config: the SLO rules, for the dashboards built on them.
        self.top_level = ""
        # Traffic all through the checks, not only until the first scrapes: an alert built on a
        # 5 s window resolves (and leaves ALERTS) seconds after the traffic stops.
        self.steady = False
        # A PromQL query that must have data before the checks start (None: the scrapes suffice).
        self.wait_for: str | None = None

    def run(self, command: str, project: str, job: str, env: dict[str, str], **kwargs) -> str:
        port = free_port()
        if job == "postgres-exporter":
            args = [command, f"--web.listen-address=127.0.0.1:{port}"]
            self.start_service(args, env, port, ready_path="/metrics")
            self.jobs[job] = [f"127.0.0.1:{port}"]
            self.labels[job] = discovery_labels(project, job)
            return ""
        prefix = {
            "frontend": "FRONTEND",
            "die-service": "DIE_SERVICE",
            "usage-scraper": "USAGE_SCRAPER",
        }.get(job, "DICE_ROLLER")
        env = {f"{prefix}_PORT": str(port), "OTEL_EXPORTER_OTLP_ENDPOINT": "", **env}
        metrics_port = port
        if job == "frontend":
            metrics_port = free_port()
            env["FRONTEND_METRICS_PORT"] = str(metrics_port)
            kwargs.setdefault("ready_path", "/_stcore/health")
        service = self.start_service(command, env, port, **kwargs)
        self.jobs[job] = [f"127.0.0.1:{metrics_port}"]
        self.labels[job] = discovery_labels(project, job)
        return service.base_url


def dice_roller_app(s: Scenario) -> None:
    url = s.run("dice-roller", "dice-roller", "dice-roller", {})
    s.urls = [f"{url}/roll/{d}" for d in ("3d6", "1d20", "2d6+1", "4d8-1", "abc")]


def stage1(s: Scenario) -> None:
    url = s.run("stage1-dice-roller", "stage-1", "dice-roller", RISKY_BUT_QUICK)
    s.urls = [f"{url}/roll?die={d}" for d in ("fair", "risky", "risky", "nope")]


def stage2(s: Scenario) -> None:
    url = s.run("stage2-dice-roller", "stage-2", "dice-roller", RISKY_BUT_QUICK)
    s.run("stage2-frontend", "stage-2", "frontend", {"FRONTEND_DICE_ROLLER_URL": url})
    s.urls = [f"{url}/roll?die={d}" for d in ("fair", "risky", "risky", "nope")]


def stage3(s: Scenario, stage: int = 3) -> None:
    # The packaged dice plus one that fails half the time and is never slow.
    dice_file = s.tmp_path / "dice.json"
    dice_file.write_text(
        json.dumps(
            [
                {"name": "fair", "faces": [1, 2, 3, 4, 5, 6]},
                {"name": "loaded", "faces": [1, 2, 3], "weights": [1, 1, 4]},
                {"name": "flaky", "faces": [1, 2], "failure_rate": 0.5},
            ]
        )
    )
    project = f"stage-{stage}"
    die_env = {"DIE_SERVICE_DICE_FILE": str(dice_file)}
    if stage >= 5:
        # A database named "dice" as in compose (the panels select it), and its exporter: stage
        # 5's on the session's PostgreSQL, stage 6's dashboards each on a cluster of their own.
        cluster = s.fixture("postgres_cluster" if stage == 5 else "own_postgres")
        die_env["DIE_SERVICE_DATABASE_URL"] = dsn = cluster.create_database("dice")
        exporter = require_tool(
            "prometheus-postgres-exporter", "apt-get install it", "postgres_exporter"
        )
        s.run(
            exporter, project, "postgres-exporter", {"DATA_SOURCE_NAME": f"{dsn}?sslmode=disable"}
        )
    dice = s.run(f"stage{stage}-die-service", project, "die-service", die_env)
    roller_env = {"DICE_ROLLER_DIE_SERVICE_URL": dice}
    if stage >= 7:
        roller_env["DICE_ROLLER_FAIRNESS_ROLLS"] = "10000"  # the check, a hundredth as long
    url = s.run(f"stage{stage}-dice-roller", project, "dice-roller", roller_env)
    s.run(
        f"stage{stage}-frontend",
        project,
        "frontend",
        {"FRONTEND_DICE_ROLLER_URL": url, "FRONTEND_DIE_SERVICE_URL": dice},
    )
    s.urls = [f"{url}/roll?die={d}" for d in ("fair", "loaded", "flaky", "flaky", "nope")]
    if stage >= 4:
        s.urls += [f"{url}/roll-async?die=fair&times=5", f"{url}/roll-async?die=flaky&times=4"]


def slos(s: Scenario, stage: int = 6) -> None:
    """Stage 6 (or 7) with the stack's SLO rules, windows 60x shorter: the flaky die burns the
    budget fast enough to fire the page, so ALERTS has a series too. Both the SLO dashboard and
    stage 6's and 7's (burn rates, firing alerts, each die's faults) run on it."""
    stage3(s, stage=stage)
    s.urls = [url for url in s.urls if "die=flaky" in url or "die=fair" in url]
    s.urls += [url for url in s.urls if "/roll?die=flaky" in url] * 3  # a third fail: 30x+
    s.steady = True
    s.wait_for = 'ALERTS{alertname="SLOAvailabilityErrorBudgetBurn", alertstate="firing"}'
    rules = s.tmp_path / "slo.rules.yml"
    rules.write_text(render(REPO / "compose/stack/prometheus/slos.yaml", windows_scale=1 / 60))
    s.top_level = f"rule_files: [{str(rules)!r}]\n"


def usage_scraper(s: Scenario) -> None:
    import time

    loki = s.fixture("fake_loki")
    now = time.time_ns()
    for n in range(50):
        line = json.dumps({"event": "roll", "service": "dice-roller", "attributes": {"n": n}})
        loki.push({"usage": "true", "service_name": "dice-roller"}, now - 60 * 10**9 + n, line)
    dsn = s.fixture("postgres_cluster").create_database(f"usage_{free_port()}")
    s.run(
        "usage-scraper",
        "observability-lab",
        "usage-scraper",
        {
            "LOKI_URL": loki.url,
            "DATABASE_URL": dsn,
            "POLL_INTERVAL_SECONDS": "0.5",
            "SAFETY_LAG_SECONDS": "0",
        },
    )


RISKY_BUT_QUICK = {"DICE_ROLLER_RISKY_FAILURE_RATE": "0.5", "DICE_ROLLER_RISKY_SLOW_RATE": "0"}
SCENARIOS: dict[str, Callable[[Scenario], None]] = {
    "overview.json": dice_roller_app,
    "dice-roller.json": dice_roller_app,
    "stage-1.json": stage1,
    "stage-2.json": stage2,
    "stage-3.json": stage3,
    "stage-4.json": lambda s: stage3(s, stage=4),
    "stage-5.json": lambda s: stage3(s, stage=5),
    "stage-6.json": slos,
    "stage-7.json": lambda s: slos(s, stage=7),
    "slos.json": slos,
    "usage.json": usage_scraper,
}


def test_every_dashboard_has_a_scenario() -> None:
    assert {path.name for path in DASHBOARDS} == SCENARIOS.keys()


@pytest.mark.parametrize("dashboard", sorted(SCENARIOS))
def test_dashboard_queries_parse_and_return_data(
    dashboard, start_service, start_prometheus, tmp_path, request
):
    scenario = Scenario(start_service, tmp_path, request)
    SCENARIOS[dashboard](scenario)
    prometheus = start_prometheus(
        scenario.jobs, labels=scenario.labels, top_level=scenario.top_level
    )

    stop = threading.Event()
    if scenario.steady:
        threading.Thread(
            target=background_traffic, args=(scenario.urls, stop, 180), daemon=True
        ).start()
    try:
        check_queries(dashboard, scenario, prometheus)
    finally:
        stop.set()


def check_queries(dashboard: str, scenario: Scenario, prometheus) -> None:
    def traffic() -> bool:
        for url in scenario.urls:
            httpx.get(url, timeout=5)
        scraped = prometheus.query("min(count_over_time(up[1m])) >= 3")
        return len(scraped) > 0 and len(prometheus.query("up")) == len(scenario.jobs)

    # Keep traffic flowing until Prometheus has the few samples rate() needs from every job.
    poll_until(traffic, timeout=60, interval=0.5, what="three scrapes of every job")
    if scenario.wait_for:
        prometheus.wait_for(scenario.wait_for, timeout=90)
    served = set(
        httpx.get(f"{prometheus.base_url}/api/v1/label/__name__/values", timeout=10).json()["data"]
    )
    served |= {name.removesuffix("_bucket") for name in served}

    queries = [(title, expr) for name, title, expr in promql_queries() if name == dashboard]
    assert queries
    selected = metric_names([as_sent_by_grafana(expr) for _, expr in queries])
    with_data = 0
    for (title, expr), names in zip(queries, selected, strict=True):
        query = as_sent_by_grafana(expr)
        assert "$" not in query, f"{title}: unknown Grafana variable in {expr}"
        response = httpx.get(
            f"{prometheus.base_url}/api/v1/query", params={"query": query}, timeout=10
        )
        assert response.status_code == 200, f"{title}: {response.text}"
        if names <= served:
            poll_until(lambda q=query: prometheus.query(q), timeout=30, what=f"{title}: {query}")
            with_data += 1
    # Missing here may be only Tempo's service-graph metrics (Tempo cannot run in the tests) and
    # stage 3's page counter, which has no series until someone clicks.
    missing = [e for (_, e), names in zip(queries, selected, strict=True) if not names <= served]
    assert all("traces_" in e or "frontend_rolls_total" in e for e in missing), missing
    assert with_data >= 1
