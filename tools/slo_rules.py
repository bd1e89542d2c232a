"""Prometheus rules for the SLOs in compose/stack/prometheus/slos.yaml: `nox -s slo-rules`.

Multi-window, multi-burn-rate alerts as the Google SRE workbook describes them (fast burn:
1 h and 5 m windows at 14.4x the budget rate, a page; slow burn: 6 h and 30 m at 6x, a ticket),
with rule names in the style of Sloth and Pyrra (`slo:sli_error:ratio_rate5m`), so they read
like the ones those tools generate. Generated in Python, so the lab installs neither (Sloth is a
Go binary, Pyrra a Kubernetes operator); the output is plain Prometheus rules either would accept.
`windows_scale` shrinks every window for tests that cannot wait hours.
"""

from pathlib import Path

import yaml

WINDOWS = ("5m", "30m", "1h", "6h")
# The SLO period: the error budget is spent over it (Sloth's and Pyrra's default).
PERIOD = "30d"
# (severity, long window, short window, burn rate): the workbook's first two rows.
ALERTS = (("page", "1h", "5m", 14.4), ("ticket", "6h", "30m", 6.0))
BY = "compose_project, service_name"
# Where an alert leads (alerts -> dashboards -> traces): the SLO dashboard, as a browser on the
# host reaches Grafana.
DASHBOARD_URL = "http://127.0.0.1:3000/d/lab-slos"


def scaled(window: str, scale: float) -> str:
    seconds = int(window[:-1]) * {"m": 60, "h": 3600, "d": 86400}[window[-1]]
    return f"{max(1, round(seconds * scale))}s" if scale != 1 else window


def error_ratio(slo: dict, window: str) -> str:
    """The share of bad requests over `window`, per service and stage."""
    if slo["name"] == "availability":
        bad = f'rate(http_requests_total{{status="5xx"}}[{window}])'
        total = f"rate(http_requests_total[{window}])"
        # `or ... * 0`: before its first 5xx a service has no 5xx series, and the ratio would be
        # no data instead of 0 (its budget left, too).
        return (
            f"(\n  sum by ({BY}) ({bad})\n  or\n  sum by ({BY}) ({total}) * 0\n)"
            f"\n/\nsum by ({BY}) ({total})"
        )
    fast = (
        f'rate(http_request_duration_seconds_bucket{{le="{slo["threshold_seconds"]}"}}[{window}])'
    )
    total = f"rate(http_request_duration_seconds_count[{window}])"
    return f"1 - (\n  sum by ({BY}) ({fast})\n  /\n  sum by ({BY}) ({total})\n)"


def rules(slos: list[dict], windows_scale: float = 1) -> dict:
    groups = []
    for slo in slos:
        name, budget = slo["name"], round(1 - slo["objective"], 6)
        labels = {"slo": name}
        recording = [
            {
                "record": f"slo:sli_error:ratio_rate{window}",
                "expr": error_ratio(slo, scaled(window, windows_scale)),
                "labels": labels,
            }
            for window in WINDOWS
        ]
        period = scaled(PERIOD, windows_scale)
        recording += [
            {
                "record": "slo:objective:ratio",
                "expr": f"vector({slo['objective']})",
                "labels": labels,
            },
            {
                "record": "slo:error_budget:ratio",
                "expr": f"vector({budget})",
                "labels": labels,
            },
            # Over the period, from the 5m ratio (as Sloth does): a 30d rate() would be costly.
            {
                "record": f"slo:sli_error:ratio_rate{PERIOD}",
                "expr": f'avg_over_time(slo:sli_error:ratio_rate5m{{slo="{name}"}}[{period}])',
                "labels": labels,
            },
            {
                "record": "slo:period_error_budget_remaining:ratio",
                "expr": f'1 - slo:sli_error:ratio_rate{PERIOD}{{slo="{name}"}} / {budget}',
                "labels": labels,
            },
        ]
        alerts = []
        for severity, long, short, rate in ALERTS:
            burn = f"({rate} * {budget})"
            alerts.append(
                {
                    "alert": f"SLO{name.capitalize()}ErrorBudgetBurn",
                    "expr": (
                        f'slo:sli_error:ratio_rate{long}{{slo="{name}"}} > {burn}\n'
                        f'and\nslo:sli_error:ratio_rate{short}{{slo="{name}"}} > {burn}'
                    ),
                    "labels": {"severity": severity, "slo": name},
                    "annotations": {
                        "summary": (
                            f"{{{{ $labels.service_name }}}} ({{{{ $labels.compose_project }}}}) "
                            f"burns its {name} error budget {rate}x too fast"
                        ),
                        "description": (
                            f"{slo['description']}: objective {slo['objective']}; the error ratio "
                            f"over {long} and {short} is above {rate} times the budget ({budget})."
                        ),
                        "dashboard": DASHBOARD_URL,
                    },
                }
            )
        groups.append({"name": f"slo-{name}", "rules": recording + alerts})
    return {"groups": groups}


class _Dumper(yaml.SafeDumper):
    """Plain YAML a person reads: multi-line expressions as literal blocks, no anchors."""

    def ignore_aliases(self, data: object) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)  # lists indented, as yamllint wants


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def render(source: Path, windows_scale: float = 1) -> str:
    slos = yaml.safe_load(source.read_text())["slos"]
    header = (
        f"# Generated from {source.name} by tools/slo_rules.py (uv run nox -s slo-rules):\n"
        "# edit that file, not this one. Written for Prometheus 3.14; promtool 2.42 accepts it.\n"
    )
    body = yaml.dump(rules(slos, windows_scale), Dumper=_Dumper, sort_keys=False, width=100)
    return header + body
