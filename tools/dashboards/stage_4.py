"""Stage 4's dashboard: GET /roll-async, many dice rolled concurrently in one request."""

from tools.dashboards import shared, stage_2
from tools.dashboards.panels import TALL_FULL, time_series, traces
from tools.dashboards.queries import promql

TITLE = "concurrent rolls"
SUMMARY = "GET /roll-async rolls many dice at once, each in its own span."
LINKS: tuple[tuple[str, str], ...] = ()


def panels(project: str) -> list:
    stage = f'compose_project="{project}"'
    dice_roller = f'{stage}, job="dice-roller"'
    return [
        *stage_2.panels(project),
        shared.latency_p95_by_route(
            "Latency p95 by route: /roll-async takes as long as its slowest die", dice_roller
        ),
        time_series(
            "Dice rolled per second, single vs concurrent requests",
            promql(f"sum(rate(dice_rolls_total{{{stage}}}[$__rate_interval]))", "dice"),
            promql(
                f"sum by (handler) (rate(http_requests_total{{{dice_roller}}}[$__rate_interval]))",
                "requests {{handler}}",
            ),
            unit="ops",
        ),
        traces(
            "Concurrent rolls (open one: the roll spans overlap)",
            f'{{resource.service.namespace="{project}" && name="GET /roll-async"}}',
            size=TALL_FULL,
        ),
    ]
