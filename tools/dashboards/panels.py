"""The kinds of panel the stage dashboards use, each from a title, its queries and a size.

Panels carry a size, not a position: the SDK's dashboard builder places each one right of the
previous, and starts a new row when the 24 columns are full. Query refIds are A, B, ... in the
order given; a panel's datasource is its queries'.
"""

from grafana_foundation_sdk.builders import barchart, logs, nodegraph, stat, table, timeseries
from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig
from grafana_foundation_sdk.builders.dashboard import Panel, ThresholdsConfig
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.common import GraphThresholdsStyleMode, LogsSortOrder
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig, Threshold

from tools.dashboards.queries import profile, service_map, traceql

# (width in grid columns out of 24, height in grid rows)
FLAME = (24, 14)
HALF = (12, 8)
FULL = (24, 8)
TALL_HALF = (12, 10)
TALL_FULL = (24, 10)


def _with_queries(panel, title: str, size: tuple[int, int], queries: tuple[Builder, ...]):
    width, height = size
    panel.title(title).span(width).height(height).datasource(queries[0].build().datasource)
    for index, query in enumerate(queries):
        panel.with_target(query.ref_id(chr(ord("A") + index)))
    return panel


def time_series(
    title: str,
    *queries: Builder,
    unit: str | None = None,
    size: tuple[int, int] = HALF,
    lines: tuple[tuple[float, str], ...] = (),
) -> timeseries.Panel:
    """`lines`: (value, colour) of horizontal lines drawn across the graph, e.g. an alert's."""
    panel = _with_queries(timeseries.Panel(), title, size, queries)
    if lines:
        steps = [Threshold(None, "green"), *(Threshold(value, colour) for value, colour in lines)]
        panel.thresholds(ThresholdsConfig().steps(steps)).thresholds_style(
            GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.LINE)
        )
    return panel.unit(unit) if unit else panel


def bar_chart(title: str, query: Builder, size: tuple[int, int] = HALF) -> barchart.Panel:
    return _with_queries(barchart.Panel(), title, size, (query,))


def single_stat(title: str, query: Builder, size: tuple[int, int]) -> stat.Panel:
    return _with_queries(stat.Panel(), title, size, (query,))


def table_of(
    title: str, query: Builder, hidden: tuple[str, ...] = (), size: tuple[int, int] = HALF
) -> table.Panel:
    """A table of an instant query's series (promql_table), one row each, less `hidden` columns."""
    panel = _with_queries(table.Panel(), title, size, (query,))
    if hidden:
        excluded = {"excludeByName": dict.fromkeys(hidden, True)}
        panel.with_transformation(DataTransformerConfig(id_val="organize", options=excluded))
    return panel


def log_lines(title: str, query: Builder, size: tuple[int, int] = TALL_FULL) -> logs.Panel:
    """Newest first, wrapped, each line expandable (its trace_id links to the trace)."""
    return (
        _with_queries(logs.Panel(), title, size, (query,))
        .show_time(True)
        .wrap_log_message(True)
        .sort_order(LogsSortOrder.DESCENDING)
        .enable_log_details(True)
    )


def traces(title: str, query: str, size: tuple[int, int] = TALL_HALF) -> table.Panel:
    """A table of the traces a TraceQL query finds."""
    return _with_queries(table.Panel(), title, size, (traceql(query),))


def service_graph(title: str, selector: str, size: tuple[int, int] = TALL_HALF) -> nodegraph.Panel:
    return _with_queries(nodegraph.Panel(), title, size, (service_map(selector),))


def flame_graph(title: str, label_selector: str, size: tuple[int, int] = FLAME) -> Panel:
    """Grafana's flame graph panel (no builder of its own in the SDK: the generic one, by type)
    of a Pyroscope profile: every function's share of the samples, callers below callees."""
    return _with_queries(Panel().type("flamegraph"), title, size, (profile(label_selector),))
