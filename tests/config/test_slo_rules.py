"""The SLO rules: generated from slos.yaml, valid for promtool, and firing at the right burn rates.

promtool's own unit tests (`promtool test rules`) replay synthetic series through the real rules:
a burn just above each alert's rate fires it, one just below does not.
"""

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.config.repo_files import PROMETHEUS_CONFIG, REPO, load_yaml
from tests.conftest import require_tool
from tools.slo_rules import ALERTS, render

SLOS = REPO / "compose/stack/prometheus/slos.yaml"
RULES = REPO / "compose/stack/prometheus/rules/slo.rules.yml"
SERVICE = {"compose_project": "stage-6", "service_name": "dice-roller"}


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
    labels = ",".join(f'{k}="{v}"' for k, v in SERVICE.items())
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
    promtool = require_tool("promtool", "apt-get install prometheus")
    slo = slos()[name]
    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": input_series(slo, bad_ratio),
                "alert_rule_test": [
                    {
                        # Past the longest window (6 h): every window holds the burn.
                        "eval_time": "7h",
                        "alertname": f"SLO{name.capitalize()}ErrorBudgetBurn",
                        "exp_alerts": expected_alerts(slo, bad_ratio),
                    }
                ],
            }
        ],
    }
    test_file = tmp_path / "slo.test.yml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
