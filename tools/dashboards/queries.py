"""The queries panels run, one builder each per datasource, with the datasources' fixed uids.

The uids are the ones compose/stack/grafana/provisioning/datasources/datasources.yaml provisions.
"""

from grafana_foundation_sdk.builders import grafanapyroscope, loki, prometheus, tempo
from grafana_foundation_sdk.models.dashboard import DataSourceRef
from grafana_foundation_sdk.models.grafanapyroscope import PyroscopeQueryType
from grafana_foundation_sdk.models.prometheus import PromQueryFormat
from grafana_foundation_sdk.models.tempo import SearchTableType

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
LOKI = DataSourceRef(type_val="loki", uid="loki")
TEMPO = DataSourceRef(type_val="tempo", uid="tempo")
PYROSCOPE = DataSourceRef(type_val="grafana-pyroscope-datasource", uid="pyroscope")
# The CPU profile of the Python agent (pyroscope-io) as Pyroscope stores it:
# NAME:SAMPLE_TYPE:SAMPLE_UNIT:PERIOD_TYPE:PERIOD_UNIT.
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
# Trace tables list at most this many traces: enough to pick one, few enough to read.
TRACE_LIMIT = 20


def promql(expr: str, legend: str, *, exemplar: bool = False) -> prometheus.Dataquery:
    """A PromQL range query; `exemplar` draws exemplars (dots that open their trace)."""
    return (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend)
        .exemplar(exemplar)
        .range()
        .datasource(PROMETHEUS)
    )


def promql_table(expr: str, legend: str) -> prometheus.Dataquery:
    """A PromQL instant query as a table: one row per series, as a bar chart wants."""
    return promql(expr, legend).instant().format(PromQueryFormat.TABLE)


def logql(expr: str, legend: str | None = None) -> loki.Dataquery:
    query = loki.Dataquery().expr(expr).query_type("range").datasource(LOKI)
    return query.legend_format(legend) if legend else query


def traceql(query: str) -> tempo.TempoQuery:
    """A TraceQL search listing whole traces (each row opens its trace)."""
    return (
        tempo.TempoQuery()
        .query_type("traceql")
        .query(query)
        .limit(TRACE_LIMIT)
        .table_type(SearchTableType.TRACES)
        .datasource(TEMPO)
    )


def service_map(selector: str) -> tempo.TempoQuery:
    """Tempo's service graph, read from the metrics its metrics-generator writes to Prometheus."""
    return tempo.TempoQuery().query_type("serviceMap").service_map_query(selector).datasource(TEMPO)


def profile(label_selector: str, profile_type: str = CPU) -> grafanapyroscope.Dataquery:
    """A Pyroscope query for the profile of the series `label_selector` selects, merged over the
    time range: what a flame graph draws."""
    return (
        grafanapyroscope.Dataquery()
        .query_type(PyroscopeQueryType.PROFILE)
        .label_selector(label_selector)
        .profile_type_id(profile_type)
        .datasource(PYROSCOPE)
    )
