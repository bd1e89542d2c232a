"""Every query in the tutorials and dashboards names only what exists.

The services run as processes under a little traffic of every kind (a roll, a failure, a batch, a
new die, a fault switched, a fairness check and its switch, a page's click, an alert) and
everything they emit is collected: span names, span and resource attributes (an OTLP receiver),
JSON log fields as Loki's `| json` names them, metric and label names (their `/metrics`,
postgres_exporter's, the SLO rules'), and the profile type ids and label names of the profiles
the real Pyroscope agent pushes (tests/support/fake_pyroscope.py). Each query's names, read with
the grammars Grafana and Prometheus use (tests/grammars/parse.mjs; a Pyroscope label selector
is PromQL's vector selector), must be among them; a name nothing emits fails the test with the
query that uses it.

The chapters' hands-on queries are left out: they name what only an exercise's solution emits,
and tests/integration/test_exercises.py checks them against the patched services.
"""

import re
from collections import defaultdict

import httpx
import yaml
from lab_telemetry.testing import poll_until
from prometheus_client.parser import text_string_to_metric_families

from tests.config.test_query_grammars import (
    alloy_stream_labels,
    alloy_structured_metadata,
    dashboard_queries,
    doc_queries,
    hands_on_queries,
    parse,
    pyroscope_queries,
)
from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.prerequisites import require_tool
from tests.support.prometheus import discovery_labels
from tests.support.tempo_series import generated_series

STAGE = {"OTEL_RESOURCE_ATTRIBUTES": "service.namespace=stage-7,deployment.environment.name=lab"}
TRACING = {"OTEL_BSP_SCHEDULE_DELAY": "100"}
# What Prometheus adds to every scraped series: the job and instance, and the labels the stack's
# Docker discovery sets (prometheus.yml); and its own series for targets and alerts.
SCRAPE_LABELS = {"job", "instance", *discovery_labels("project", "service")}
PROMETHEUS_SERIES = {"up": set(), "ALERTS": {"alertname", "alertstate", "severity", "slo"}}
NOTIFICATION = {
    "version": "4",
    "status": "firing",
    "receiver": "alert-receiver",
    "alerts": [
        {
            "status": "firing",
            # As the SLO rules label the alert (slo.rules.yml keeps the stage's labels).
            "labels": {
                "alertname": "SLOAvailabilityErrorBudgetBurn",
                "severity": "page",
                "compose_project": "stage-6",
                "service_name": "dice-roller",
            },
            "annotations": {"summary": "dice-roller (stage-6) burns its budget"},
            "startsAt": "2026-11-26T14:02:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
        }
    ],
}


def json_fields(line: dict, prefix: str = "") -> set[str]:
    """The names Loki's `| json` gives a line's fields: nested keys joined with `_`."""
    names = set()
    for key, value in line.items():
        name = re.sub(r"[^a-zA-Z0-9_]", "_", f"{prefix}{key}")
        names |= json_fields(value, f"{name}_") if isinstance(value, dict) else {name}
    return names


def scraped(url: str) -> dict[str, set[str]]:
    """Metric name -> label names, as the exposition names them and Prometheus stores them.

    Names come from the sample lines themselves: prometheus_client's parser renames a counter
    exposed without `_total` (postgres_exporter's) to `..._total`, which Prometheus does not.
    """
    text = httpx.get(url, timeout=10).text
    labels_of = {
        sample.name.removesuffix("_total"): set(sample.labels)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    series: dict[str, set[str]] = defaultdict(set)
    for name in re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.MULTILINE):
        series[name] |= labels_of.get(name.removesuffix("_total"), set())
    return series


def rule_series() -> dict[str, set[str]]:
    rules = yaml.safe_load((REPO / "compose/stack/prometheus/rules/slo.rules.yml").read_text())
    by = {"compose_project", "service_name", "slo"}
    return {
        rule["record"]: by
        for group in rules["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def run_everything(
    start_service, start_stage7, otlp_receiver, database, browser_page, fake_loki, fake_pyroscope
):
    """Start every kind of service, give each a little of all it does; the services. Stage 7's
    do everything the earlier stages' do, and profile to `fake_pyroscope`."""
    otlp = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint, **TRACING, **STAGE}
    profiles = {
        "PYROSCOPE_SERVER_ADDRESS": fake_pyroscope.address,
        "PYROSCOPE_UPLOAD_INTERVAL": "1",
    }
    ports = {name: free_port() for name in ("page", "metrics", "alerts", "usage")}
    die, roller = start_stage7(**otlp, **profiles)
    frontend = start_service(
        "stage7-frontend",
        {
            "FRONTEND_PORT": str(ports["page"]),
            "FRONTEND_METRICS_PORT": str(ports["metrics"]),
            "FRONTEND_DICE_ROLLER_URL": roller.base_url,
            "FRONTEND_DIE_SERVICE_URL": die.base_url,
            **otlp,
            **profiles,
        },
        ports["page"],
        ready_path="/_stcore/health",
    )
    receiver = start_service(
        "alert-receiver", {"ALERT_RECEIVER_PORT": str(ports["alerts"]), **otlp}, ports["alerts"]
    )
    scraper = start_service(
        "usage-scraper",
        {
            "USAGE_SCRAPER_PORT": str(ports["usage"]),
            "LOKI_URL": fake_loki.url,
            "DATABASE_URL": database,
            "POLL_INTERVAL_SECONDS": "0.5",
            **otlp,
        },
        ports["usage"],
    )
    exporter_port = free_port()
    exporter = require_tool(
        "prometheus-postgres-exporter", "apt-get install it", "postgres_exporter"
    )
    start_service(
        [exporter, f"--web.listen-address=127.0.0.1:{exporter_port}"],
        {"DATA_SOURCE_NAME": f"{database}?sslmode=disable"},
        exporter_port,
        ready_path="/metrics",
    )

    with httpx.Client(base_url=roller.base_url, timeout=10) as client:
        patch = {"failure_rate": 0.5, "slow_rate": 1.0, "delay_range_seconds": [0.6, 0.6]}
        httpx.patch(f"{die.base_url}/dice/risky/faults", json=patch, timeout=10)
        for die_name in ("fair", "risky", "risky", "risky", "nope"):
            client.get("/roll", params={"die": die_name})
        client.get("/roll-async", params={"die": "risky", "times": 5})
        client.put("/fairness-check", json={"cache": True})
        new_die = {"name": "d4", "faces": [1, 2, 3, 4]}
        httpx.post(f"{die.base_url}/dice", json=new_die, timeout=10)
    httpx.post(f"{receiver.base_url}/alerts", json=NOTIFICATION, timeout=10)
    page = browser_page
    page.goto(frontend.base_url)
    page.get_by_role("button", name="Roll", exact=True).click()
    page.get_by_text("Trace of this roll").wait_for()
    services = [die, roller, frontend, receiver, scraper]
    metrics = {
        "die": f"{die.base_url}/metrics",
        "roller": f"{roller.base_url}/metrics",
        "frontend": f"http://127.0.0.1:{ports['metrics']}/metrics",
        "receiver": f"{receiver.base_url}/metrics",
        "scraper": f"{scraper.base_url}/metrics",
        "exporter": f"http://127.0.0.1:{exporter_port}/metrics",
    }
    return services, metrics


def test_every_query_names_only_what_the_services_emit(
    start_service,
    start_stage7,
    start_dice_roller,
    otlp_receiver,
    database,
    browser_page,
    fake_loki,
    fake_pyroscope,
) -> None:
    services, metrics_urls = run_everything(
        start_service,
        start_stage7,
        otlp_receiver,
        database,
        browser_page,
        fake_loki,
        fake_pyroscope,
    )
    demo = start_dice_roller(**STAGE)
    httpx.get(f"{demo.base_url}/roll/3d6", timeout=10)
    metrics_urls["demo"] = f"{demo.base_url}/metrics"

    # Wait for the spans of what was done last, so every exporter has flushed.
    poll_until(lambda: otlp_receiver.find(name="roll die"), timeout=15, what="the page's span")
    poll_until(lambda: otlp_receiver.find(name="GET /roll/{dice}"), timeout=15, what="demo span")
    spans = otlp_receiver.spans
    log_lines = [line for service in [*services, demo] for line in service.log_lines()]
    series: dict[str, set[str]] = defaultdict(set)
    for url in metrics_urls.values():
        for name, labels in scraped(url).items():
            series[name] |= labels | SCRAPE_LABELS
    series.update(rule_series())
    series.update(PROMETHEUS_SERIES)
    series.update(generated_series())  # Tempo's, from tempo.yaml

    emitted = {
        "stream": alloy_stream_labels(),
        # A label filter names a parsed field, a stream label or structured metadata.
        "filter": set().union(*(json_fields(line) for line in log_lines))
        | alloy_stream_labels()
        | alloy_structured_metadata(),
        "grouping": alloy_stream_labels(),
        "resource": {key for span in spans for key in span.resource},
        "span": {key for span in spans for key in span.attributes},
        "unscoped": {key for span in spans for key in (*span.attributes, *span.resource)},
        "span_name": {span.name for span in spans},
        "metric": set(series),
        "label": set().union(*series.values()),
    }
    exercises = hands_on_queries()
    assert exercises, "no chapter has a hands-on query"
    queries = [query for query in doc_queries() if query not in exercises]
    unknown = unknown_names(queries + dashboard_queries(), emitted)
    assert not unknown, "\n".join(unknown)
    # The check can fail: what a misspelt name looks like to it.
    typos = [
        ("-", "logql", '{service_name="alert-receiver"} | json | alert_state="firing"'),
        ("-", "traceql", '{span.http.status_code=500 && name="GET /rolls"}'),
        ("-", "promql", 'sum(rate(http_request_total{compose_project="stage-6"}[1m]))'),
    ]
    # Pyroscope's queries: the profile type ids and the labels the agent sends, series labels
    # and each sample's (a span's samples carry span_id, span_name and trace_id).
    poll_until(
        lambda: [
            s
            for s in fake_pyroscope.samples(service_name="dice-roller")
            if "simulate_fairness" in s.functions and s.label_values("span_id")
        ],
        timeout=30,
        what="the dice-roller's profile of a checked roll",
    )
    profile_types, profile_labels = pyroscope_names(fake_pyroscope)
    assert "process_cpu:cpu:nanoseconds:cpu:nanoseconds" in profile_types
    wrong = unknown_profile_names(pyroscope_queries(), profile_types, profile_labels)
    assert not wrong, "\n".join(wrong)
    assert unknown_profile_names(
        [("-", "process_cpu:cpu:nanoseconds", '{service_name="dice-roller", service="x"}')],
        profile_types,
        profile_labels,
    ) == [
        "-: profile type 'process_cpu:cpu:nanoseconds' is emitted by nothing",
        '-: label \'service\' is emitted by nothing, in: {service_name="dice-roller", service="x"}',
    ]
    assert [line.split(": ")[1] for line in unknown_names(typos, emitted)] == [
        "filter 'alert_state' is emitted by nothing, in",
        "span 'http.status_code' is emitted by nothing, in",
        "span_name 'GET /rolls' is emitted by nothing, in",
        "metric 'http_request_total' is emitted by nothing, in",
    ]


def pyroscope_names(pyroscope) -> tuple[set[str], set[str]]:
    """The profile type ids (NAME:SAMPLE_TYPE:UNIT:PERIOD_TYPE:UNIT) and label names of every
    profile received, series labels and sample labels alike."""
    types, labels = set(), set()
    for profile in pyroscope.received():
        strings = profile.profile.string_table
        period = profile.profile.period_type
        for sample_type, unit in profile.sample_types:
            name = profile.labels["__name__"]
            types.add(f"{name}:{sample_type}:{unit}:{strings[period.type]}:{strings[period.unit]}")
        labels |= set(profile.labels) - {"__name__"}
        labels |= {key for sample in profile.samples() for key, _ in sample.labels}
    return types, labels


def unknown_profile_names(
    queries: list[tuple[str, str, str]], types: set[str], labels: set[str]
) -> list[str]:
    wrong = [
        f"{where}: profile type {kind!r} is emitted by nothing"
        for where, kind, _ in queries
        if kind not in types
    ]
    selectors = [(where, "promql", selector) for where, _, selector in queries]
    return wrong + [
        f"{where}: label {name!r} is emitted by nothing, in: {query}"
        for (where, _, query), result in zip(selectors, parse(selectors), strict=True)
        for kind, name in result["names"]
        if name not in labels
    ]


def unknown_names(queries: list[tuple[str, str, str]], emitted: dict[str, set[str]]) -> list[str]:
    return [
        f"{where}: {kind} {name!r} is emitted by nothing, in: {query}"
        for (where, _, query), result in zip(queries, parse(queries), strict=True)
        for kind, name in result["names"]
        if name not in emitted[kind]
    ]
