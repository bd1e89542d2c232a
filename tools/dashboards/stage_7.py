"""Stage 7's dashboard: on top, what stage 7 adds (the dice-roller's latency by route with its
exemplars, the slow rolls' traces, and its CPU flame graph from Pyroscope); stage 6's own panels
below them, then the shared ones and stage 5's."""

from tools.dashboards import shared, stage_5, stage_6
from tools.dashboards.panels import flame_graph, traces

TITLE = "profiles"
SUMMARY = (
    "stage 6 with continuous CPU profiles. On top: the dice-roller's latency by route (its dots "
    "are exemplars: open one), the slow rolls' traces (a span's 'Profiles for this span' opens "
    "its flame graph) and the dice-roller's CPU flame graph over the time range; stage 6's panels "
    "below."
)
LINKS = stage_6.LINKS


def first_panels(project: str) -> list:
    roller = f'compose_project="{project}", job="dice-roller"'
    return [
        shared.latency_p95_by_route(
            "Dice-roller latency p95 by route (dots are exemplars: open one's trace)", roller
        ),
        traces(
            "Slow rolls: GET /roll over 100 ms (open one, then its fastapi.endpoint span)",
            f'{{resource.service.namespace="{project}" && name="GET /roll" && duration > 100ms}}',
            size=(12, 8),
        ),
        flame_graph(
            "CPU of the dice-roller over the time range (Pyroscope): the widest frames use most",
            f'{{service_name="dice-roller", service_namespace="{project}"}}',
        ),
        *stage_6.first_panels(project),
    ]


def panels(project: str) -> list:
    return stage_5.panels(project)
