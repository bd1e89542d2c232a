"""Stage 6's dashboard: on top, what stage 6 adds (a die's faults as switched and what they do,
the burn rates of the stage's services, its firing alerts, the switches' log lines); stage 5's
panels below. Every service of every stage has its SLOs on the 'SLOs and alerts' dashboard."""

from pathlib import Path

import yaml

from tools.dashboards import stage_5
from tools.dashboards.panels import log_lines, table_of, time_series
from tools.dashboards.queries import logql, promql, promql_table
from tools.slo_rules import ALERTS, PERIOD, WINDOWS

TITLE = "SLOs and alerts"
SUMMARY = (
    "stage 5 with faults switched at runtime. On top: each die's faults as the die-service has "
    "them (dice_fault_ratio) beside the share of rolls failing and of requests over the latency "
    "threshold, the burn rates of stage 6's services, its firing alerts and the switches' WARNING "
    "lines; stage 5's panels below. Every stage's SLOs are on the 'SLOs and alerts' dashboard "
    "(lab-slos)."
)
# (title, URL): the SLO dashboard (compose/stack/grafana/dashboards/slos.json) by its uid.
LINKS = (("SLOs and alerts", "/d/lab-slos"),)
# The SLOs and the alerts as the rules have them (tools/slo_rules.py renders the same file).
SLOS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "compose/stack/prometheus/slos.yaml").read_text()
)["slos"]
THRESHOLD = next(slo["threshold_seconds"] for slo in SLOS if slo["name"] == "latency")
WHEN = "; ".join(
    f"{severity}: {long} and {short} above {rate:g}" for severity, long, short, rate in ALERTS
)
# A line across the burn-rate graphs where each alert fires, lowest first.
ALERT_LINES = tuple(
    sorted((rate, "red" if severity == "page" else "orange") for severity, _, _, rate in ALERTS)
)


def burn_rates(project: str, slo: str) -> list:
    """The SLO's error ratio over each window as a multiple of its budget, by service."""
    return [
        promql(
            f'slo:sli_error:ratio_rate{window}{{compose_project="{project}", slo="{slo}"}}'
            f' / on (slo) group_left () slo:error_budget:ratio{{slo="{slo}"}}',
            f"{window} {{{{service_name}}}}",
        )
        for window in WINDOWS
    ]


def first_panels(project: str) -> list:
    stage = f'compose_project="{project}"'
    roller = f'{stage}, job="dice-roller"'

    def by_die(counter: str) -> str:
        return f"sum by (die) (rate({counter}{{{stage}}}[$__rate_interval]))"

    def by_route(series: str, selector: str) -> str:
        return f"sum by (handler) (rate({series}{{{selector}}}[$__rate_interval]))"

    # A die that has not failed (or not landed) yet has no series of that counter: 0, not gone.
    failed = f"({by_die('dice_roll_failures_total')} or 0 * {by_die('dice_rolls_total')})"
    landed = f"({by_die('dice_rolls_total')} or 0 * {by_die('dice_roll_failures_total')})"
    within = by_route("http_request_duration_seconds_bucket", f'{roller}, le="{THRESHOLD}"')
    answered = by_route("http_request_duration_seconds_count", roller)

    def fault(kind: str) -> str:
        return f'max by (die) (dice_fault_ratio{{{stage}, fault="{kind}"}})'

    return [
        time_series(
            "Failing rolls by die: the share that fail, and the failure_rate the die is set to",
            promql(f"{failed} / ({failed} + {landed})", "{{die}} failing"),
            promql(fault("failure"), "{{die}} failure_rate"),
            unit="percentunit",
        ),
        time_series(
            f"Slow: dice-roller requests over {THRESHOLD} s (the latency SLO's threshold) by "
            "route, and the slow_rate each die is set to",
            promql(f"1 - {within} / {answered}", f"{{{{handler}}}} over {THRESHOLD} s"),
            promql(fault("slow"), "{{die}} slow_rate"),
            unit="percentunit",
        ),
        *(
            time_series(
                f"Burn rate, {slo['name']}, by service (1: the budget lasts exactly the "
                f"{PERIOD} period; {WHEN})",
                *burn_rates(project, slo["name"]),
                size=(12, 9),
                lines=ALERT_LINES,
            )
            for slo in SLOS
        ),
        table_of(
            "Firing alerts of this stage (Grafana lists them too: Alerting > Alert groups)",
            promql_table(f'ALERTS{{{stage}, alertstate="firing"}}', ""),
            hidden=("Time", "Value", "__name__", "alertstate", "compose_project"),
        ),
        log_lines(
            "Fault switches: the die-service's WARNING line for each change",
            logql(f'{{{stage}, service_name="die-service"}} |= "faults of the"'),
            size=(12, 8),
        ),
    ]


def panels(project: str) -> list:
    return stage_5.panels(project)
