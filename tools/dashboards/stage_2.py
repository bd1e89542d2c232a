"""Stage 2's dashboard: the Streamlit frontend, and the service graph its calls draw.

Every later stage has a frontend too, so stages 3-6 open with these panels after the shared ones.
"""

from tools.dashboards.panels import FULL, service_graph, time_series
from tools.dashboards.queries import promql

TITLE = "a frontend and a dice-roller"
SUMMARY = "one trace crosses the Streamlit frontend and the dice-roller."
LINKS: tuple[tuple[str, str], ...] = ()


def panels(project: str) -> list:
    # Tempo's service graph metrics carry the namespace as client_/server_service_namespace.
    namespace = f'client_service_namespace="{project}"'
    return [
        time_series(
            "Rolls asked for in the page, by outcome",
            promql(
                f'sum by (outcome) (rate(frontend_rolls_total{{compose_project="{project}"}}'
                "[$__rate_interval]))",
                "{{outcome}}",
            ),
            unit="ops",
        ),
        service_graph("Service graph (from Tempo's metrics-generator)", f"{{{namespace}}}"),
        time_series(
            "Calls between services per second (service graph metrics)",
            promql(
                f"sum by (client, server) (rate(traces_service_graph_request_total{{{namespace}}}"
                "[$__rate_interval]))",
                "{{client}} → {{server}}",
            ),
            size=FULL,
        ),
    ]
