"""The SLO rules: generated from slos.yaml, valid for promtool, and firing at the right burn rates.

promtool's own unit tests (`promtool test rules`) replay synthetic series through the real rules:
a burn just above each alert's rate fires it, one just below does not.
"""

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from lab_dice.dice import DICE_FILE
from traffic_gen.scenarios import SteadyScenario

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
    assert_promtool_accepts(RULES)


def assert_promtool_accepts(rules: Path) -> None:
    """`promtool check rules` of a rules file passes."""
    promtool = require_tool("promtool", "apt-get install prometheus")
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False
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


def run_promtool_test(
    tmp_path: Path, series: list[dict], rules: Path = RULES, **checks: list[dict]
) -> None:
    """`promtool test rules` of the committed rules (or others): series every minute, then the
    checks (alert_rule_test, promql_expr_test) as promtool's unit-test file names them."""
    promtool = require_tool("promtool", "apt-get install prometheus")
    tests = {
        "rule_files": [str(rules)],
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


# Stage 6's incidents as its chapter tells them: the steady traffic's mix (traffic-gen's
# SteadyScenario over the lab's dice), an hour and more at rest, then the fault, then the end.
CHAPTER = REPO / "tutorials/stage-6.md"
REST_MINUTES = 360


def steady_shares() -> dict[str, float]:
    dice = [die["name"] for die in json.loads(DICE_FILE.read_text())]
    weights = {die: SteadyScenario.MIX.get(die, SteadyScenario.OTHERS) for die in dice}
    return {die: weight / sum(weights.values()) for die, weight in weights.items()}


def bad_share(slo: dict, faults: dict[str, dict]) -> float:
    """The share of the steady traffic that is bad for `slo`, the dice having `faults`."""
    specs = {die["name"]: die for die in json.loads(DICE_FILE.read_text())}
    bad = 0.0
    for die, share in steady_shares().items():
        spec = {**specs[die], **faults.get(die, {})}
        if slo["name"] == "availability":
            bad += share * spec.get("failure_rate", 0)
        else:  # a slow roll misses the threshold when its delay does (uniform in its range)
            low, high = spec.get("delay_range_seconds", [0, 0])
            threshold = slo["threshold_seconds"]
            missed = 1.0 if low >= threshold else max(0.0, high - threshold) / (high - low or 1)
            bad += share * spec.get("slow_rate", 0) * missed
    return bad


def window_minutes(window: str) -> int:
    return int(window[:-1]) * (60 if window[-1] == "h" else 1)


def minutes_to_cross(minutes: int, rate: float, budget: float, low: float, high: float) -> float:
    """How long after the bad share steps from `low` to `high` its share over a window of
    `minutes` crosses rate x budget (the alert's condition)."""
    return minutes * (rate * budget - low) / (high - low)


def incident(slo_name: str, faults: dict[str, dict], fault_minutes: int) -> tuple:
    """The series of 1,000 requests a minute through rest, the fault and rest again, with the
    minutes after its start at which the page fires and after its end at which it resolves."""
    slo = slos()[slo_name]
    budget = round(1 - slo["objective"], 6)
    rest, fault = bad_share(slo, {}), bad_share(slo, faults)
    _, long, short, rate = ALERTS[0]  # the page
    fires = max(
        minutes_to_cross(window_minutes(window), rate, budget, rest, fault)
        for window in (long, short)
    )
    resolves = window_minutes(short) * (1 - (rate * budget - rest) / (fault - rest))
    bad_counts = [round(1000 * rest)] * REST_MINUTES + [round(1000 * fault)] * fault_minutes
    bad_counts += [round(1000 * rest)] * 30
    labels = SERVICE_LABELS
    totals = [sum(bad_counts[: i + 1]) for i in range(len(bad_counts))]
    goods = [1000 * (i + 1) - total for i, total in enumerate(totals)]
    if slo_name == "availability":
        series = [
            {"series": f'http_requests_total{{{labels},status="5xx"}}', "values": " ".join(
                map(str, [0, *totals]))},
            {"series": f'http_requests_total{{{labels},status="2xx"}}', "values": " ".join(
                map(str, [0, *goods]))},
        ]  # fmt: skip
    else:
        le = slo["threshold_seconds"]
        series = [
            {"series": f'http_request_duration_seconds_bucket{{{labels},le="{le}"}}',
             "values": " ".join(map(str, [0, *goods]))},
            {"series": f"http_request_duration_seconds_count{{{labels}}}",
             "values": " ".join(str(1000 * i) for i in range(len(totals) + 1))},
        ]  # fmt: skip
    return slo, series, fires, resolves, bad_counts


def firing(slo: dict, bad_counts: list[int], minute: int) -> list[str]:
    """The severities firing at `minute`: both windows' bad share above the alert's rate x
    budget, each window's share read from the per-minute counts."""
    budget = round(1 - slo["objective"], 6)

    def share(window: str) -> float:
        counted = bad_counts[max(0, minute - window_minutes(window)) : minute]
        return sum(counted) / (1000 * len(counted))

    return [severity for severity, long, short, rate in ALERTS
            if share(long) > rate * budget and share(short) > rate * budget]  # fmt: skip


def checks_around(slo: dict, bad_counts: list[int], minutes: list[int]) -> list[dict]:
    by_severity = {a["exp_labels"]["severity"]: a for a in expected_alerts(slo, bad_ratio=1.0)}
    name = f"SLO{slo['name'].capitalize()}ErrorBudgetBurn"
    return [
        {
            "eval_time": f"{minute}m",
            "alertname": name,
            "exp_alerts": [by_severity[s] for s in firing(slo, bad_counts, minute)],
        }
        for minute in minutes
    ]


def test_stage6_chapters_failure_incident_pages_and_resolves_when_the_chapter_says(tmp_path):
    fault_minutes = 30
    slo, series, fires, resolves, bad = incident(
        "availability", {"fair": {"failure_rate": 1.0}}, fault_minutes
    )
    chapter = " ".join(CHAPTER.read_text().split())  # as it reads, not as it is wrapped
    assert f"the page fires about {round(fires)} minutes after the fault" in chapter, fires
    assert f"the page resolves about {round(resolves)} minutes after" in chapter, resolves
    end = REST_MINUTES + fault_minutes
    minutes = [REST_MINUTES + int(fires) - 1, REST_MINUTES + int(fires) + 2,
               end + int(resolves) - 1, end + int(resolves) + 2]  # fmt: skip
    checks = checks_around(slo, bad, minutes)
    # The page is off a minute before the time the chapter states and on two after; it is on
    # a minute before it resolves and off two after.
    pages = ["page" in firing(slo, bad, minute) for minute in minutes]
    assert pages == [False, True, True, False], pages
    run_promtool_test(tmp_path, series, alert_rule_test=checks)


def test_stage6_chapters_latency_incident_pages_when_the_chapter_says(tmp_path):
    slow = {"fair": {"slow_rate": 1.0, "delay_range_seconds": [0.6, 1.0]}}
    fault_minutes = 70
    slo, series, fires, _, bad = incident("latency", slow, fault_minutes)
    chapter = " ".join(CHAPTER.read_text().split())
    assert f"the latency page fires about {round(fires)} minutes after" in chapter
    minutes = [REST_MINUTES + int(fires) - 1, REST_MINUTES + int(fires) + 2]
    assert ["page" in firing(slo, bad, minute) for minute in minutes] == [False, True]
    run_promtool_test(tmp_path, series, alert_rule_test=checks_around(slo, bad, minutes))


def test_stage6_chapters_problem_a_risky_die_failing_every_roll_fires_nothing(tmp_path):
    # The chapter's problem: the risky die (5 of the mix's 99 parts) failing every roll burns the
    # availability budget about 5 times too fast, below the page's rate and the ticket's, so
    # nothing fires however long it lasts (here past the 6h window, the longest).
    faults = {"risky": {"failure_rate": 1.0}}
    fault_minutes = 420
    slo, series, _, _, bad = incident("availability", faults, fault_minutes)
    burn = bad_share(slo, faults) / round(1 - slo["objective"], 6)
    chapter = " ".join(CHAPTER.read_text().split())
    assert f"a burn rate of about {round(burn)}:" in chapter, burn
    assert not any(firing(slo, bad, minute) for minute in range(1, len(bad) + 1))
    minutes = [REST_MINUTES + after for after in (10, 60, 360, fault_minutes)]
    run_promtool_test(tmp_path, series, alert_rule_test=checks_around(slo, bad, minutes))
