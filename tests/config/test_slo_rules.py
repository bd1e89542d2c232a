"""The SLO rules: generated from slos.yaml, valid for promtool, and firing at the right burn rates.

promtool's own unit tests (`promtool test rules`) replay synthetic series through the real rules:
a burn just above each alert's rate fires it, one just below does not.
"""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.config.repo_files import DASHBOARDS, PROMETHEUS_CONFIG, REPO, load_yaml
from tests.support.prerequisites import require_tool
from tools.slo_rules import ALERTS, DASHBOARD_URL, render

SLOS = REPO / "compose/stack/prometheus/slos.yaml"
RULES = REPO / "compose/stack/prometheus/rules/slo.rules.yml"
SERVICE = {"compose_project": "stage-6", "service_name": "dice-roller"}
SERVICE_LABELS = ",".join(f'{k}="{v}"' for k, v in SERVICE.items())


def slos() -> dict[str, dict]:
    return {slo["name"]: slo for slo in load_yaml(SLOS)["slos"]}


def test_the_committed_rules_are_generated_from_slos_yaml() -> None:
    assert RULES.read_text() == render(SLOS), "stale: run `uv run nox -s slo-rules`"


def test_prometheus_loads_the_rules() -> None:
    assert load_yaml(PROMETHEUS_CONFIG)["rule_files"] == ["rules/*.yml"]
    promtool = require_tool("promtool", "apt-get install prometheus")
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def input_series(slo: dict, bad_ratio: float) -> list[dict]:
    """Counters that make `bad_ratio` of 1,000 requests a minute bad for this SLO."""
    labels = SERVICE_LABELS
    bad = round(1000 * bad_ratio)
    if slo["name"] == "availability":
        return [
            {"series": f'http_requests_total{{{labels},status="5xx"}}', "values": f"0+{bad}x480"},
            {
                "series": f'http_requests_total{{{labels},status="2xx"}}',
                "values": f"0+{1000 - bad}x480",
            },
        ]
    threshold = slo["threshold_seconds"]
    return [
        {
            "series": f'http_request_duration_seconds_bucket{{{labels},le="{threshold}"}}',
            "values": f"0+{1000 - bad}x480",
        },
        {"series": f"http_request_duration_seconds_count{{{labels}}}", "values": "0+1000x480"},
    ]


def expected_alerts(slo: dict, bad_ratio: float) -> list[dict]:
    budget = round(1 - slo["objective"], 6)
    expected = []
    for severity, long, short, rate in ALERTS:
        if bad_ratio > rate * budget:
            expected.append(
                {
                    "exp_labels": {"severity": severity, "slo": slo["name"], **SERVICE},
                    "exp_annotations": {
                        "summary": f"dice-roller (stage-6) burns its {slo['name']} error budget "
                        f"{rate}x too fast",
                        "description": f"{slo['description']}: objective {slo['objective']}; "
                        f"the error ratio over {long} and {short} is above {rate} times the "
                        f"budget ({budget}).",
                        "dashboard": DASHBOARD_URL,
                    },
                }
            )
    return expected


def burn_cases() -> list[tuple[str, float]]:
    """For each SLO and alert: a burn 2% above its rate, and 2% below."""
    cases = []
    for name, slo in slos().items():
        budget = 1 - slo["objective"]
        for _, _, _, rate in ALERTS:
            cases += [(name, rate * budget * 1.02), (name, rate * budget * 0.98)]
    return cases


@pytest.mark.parametrize(("name", "bad_ratio"), burn_cases())
def test_an_alert_fires_above_its_burn_rate_and_not_just_below(
    name: str, bad_ratio: float, tmp_path: Path
) -> None:
    slo = slos()[name]
    run_promtool_test(
        tmp_path,
        input_series(slo, bad_ratio),
        alert_rule_test=[
            {
                # Past the longest window (6 h): every window holds the burn.
                "eval_time": "7h",
                "alertname": f"SLO{name.capitalize()}ErrorBudgetBurn",
                "exp_alerts": expected_alerts(slo, bad_ratio),
            }
        ],
    )


def run_promtool_test(tmp_path: Path, series: list[dict], **checks: list[dict]) -> None:
    """`promtool test rules` of the committed rules: series every minute, then the checks
    (alert_rule_test, promql_expr_test) as promtool's unit-test file names them."""
    promtool = require_tool("promtool", "apt-get install prometheus")
    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, **checks}],
    }
    test_file = tmp_path / "slo.test.yml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_total_outage_pages_within_the_workbooks_detection_time(tmp_path: Path) -> None:
    """Six clean hours, then every request fails. The workbook's detection time is the burn
    rate's share of the long window: 14.4 x 1% of 1 h = 8.6 minutes for the page, and
    6 x 1% of 6 h = 21.6 minutes for the ticket."""
    slo = slos()["availability"]
    labels = SERVICE_LABELS
    series = [
        {"series": f'http_requests_total{{{labels},status="5xx"}}', "values": "0x360 1000+1000x60"},
        {
            "series": f'http_requests_total{{{labels},status="2xx"}}',
            "values": "0+1000x360 360000x60",
        },
    ]
    by_severity = {a["exp_labels"]["severity"]: a for a in expected_alerts(slo, bad_ratio=1.0)}
    name = "SLOAvailabilityErrorBudgetBurn"
    outage_minutes = {6: [], 12: ["page"], 18: ["page"], 26: ["page", "ticket"]}
    run_promtool_test(
        tmp_path,
        series,
        alert_rule_test=[
            {
                "eval_time": f"{360 + minutes}m",
                "alertname": name,
                "exp_alerts": [by_severity[severity] for severity in firing],
            }
            for minutes, firing in outage_minutes.items()
        ],
    )


def test_a_service_without_errors_has_an_error_ratio_of_zero_not_no_data(tmp_path: Path) -> None:
    # Before its first 5xx a service has no 5xx series at all.
    labels = SERVICE_LABELS
    series = [{"series": f'http_requests_total{{{labels},status="2xx"}}', "values": "0+1000x30"}]
    run_promtool_test(
        tmp_path,
        series,
        promql_expr_test=[
            {
                "expr": 'slo:sli_error:ratio_rate5m{slo="availability"}',
                "eval_time": "20m",
                "exp_samples": [
                    {
                        "labels": "slo:sli_error:ratio_rate5m"
                        f'{{{SERVICE_LABELS},slo="availability"}}',
                        "value": 0,
                    }
                ],
            }
        ],
    )


def test_the_alerts_link_to_a_provisioned_dashboard() -> None:
    uids = {json.loads(path.read_text())["uid"] for path in DASHBOARDS}
    assert DASHBOARD_URL.rsplit("/", 1)[1] in uids
