"""Stage 3's dashboard: the die-service the dice-roller asks, and what its absence does."""

from tools.dashboards import shared, stage_2
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
        shared.latency_p95_by_route("Die-service latency p95 by route", die_service),
        time_series(
            "Dice-roller answers by status class (503: die-service down)",
            promql(
                f"sum by (status) (rate(http_requests_total{{{dice_roller}}}[$__rate_interval]))",
                "{{status}}",
            ),
            unit="reqps",
        ),
    ]
