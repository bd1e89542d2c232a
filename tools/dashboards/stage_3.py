"""Stage 3's dashboard: the die-service the dice-roller asks, and what its absence does."""

from tools.dashboards import stage_2
from tools.dashboards.panels import time_series
from tools.dashboards.queries import promql

TITLE = "the die-service"
SUMMARY = "the dice-roller asks the die-service for each die's specification."
LINKS: tuple[tuple[str, str], ...] = ()


def panels(project: str) -> list:
    die_service = f'compose_project="{project}", job="die-service"'
    dice_roller = f'compose_project="{project}", job="dice-roller"'
    return [
        *stage_2.panels(project),
        time_series(
            "Die-service latency p95 by route",
            promql(
                "histogram_quantile(0.95, sum by (le, handler) "
                f"(rate(http_request_duration_seconds_bucket{{{die_service}}}[$__rate_interval])))",
                "{{handler}}",
                exemplar=True,
            ),
            unit="s",
        ),
        time_series(
            "Dice-roller answers by status class (503: die-service down)",
            promql(
                f"sum by (status) (rate(http_requests_total{{{dice_roller}}}[$__rate_interval]))",
                "{{status}}",
            ),
            unit="reqps",
        ),
    ]
